import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription<R> {
  /** Every message received so far, in order. */
  readonly messages: { data?: R | null; errors?: readonly { message: string }[] }[];
  /** Resolves with the first message, already received or still to come, that satisfies `test`. */
  until(test: (data: R) => boolean, timeoutMs?: number): Promise<R>;
  /** Resolves with the first message that arrives after this call and satisfies `test`; earlier ones never count. */
  next(test?: (data: R) => boolean, timeoutMs?: number): Promise<R>;
  /** The data of the newest message, if any. */
  latest(): R | null | undefined;
  /** Resolves when the subscription ends with an error. */
  readonly failed: Promise<readonly { message: string }[]>;
  stop(): void;
}

export function connect(port: number, token?: string): Client {
  return createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

export function subscribe<R, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<R, V>,
  variables: V,
): Subscription<R> {
  const messages: Subscription<R>['messages'][number][] = [];
  const waiters: (() => void)[] = [];
  let fail: (errors: readonly { message: string }[]) => void = () => {};
  const failed = new Promise<readonly { message: string }[]>((resolve) => {
    fail = resolve;
  });
  const stop = client.subscribe<R>(
    { query: print(document), variables },
    {
      next: (message) => {
        messages.push(message as Subscription<R>['messages'][number]);
        if (message.errors) fail(message.errors);
        for (const w of waiters.splice(0)) w();
      },
      error: (err) => {
        const errors = Array.isArray(err)
          ? err
          : [{ message: String((err as { reason?: string }).reason ?? err) }];
        fail(errors);
        for (const w of waiters.splice(0)) w();
      },
      complete: () => {},
    },
  );
  /** Waits for a message from index `from` on that satisfies `test`. */
  const waitFrom = (from: number, test: (data: R) => boolean, timeoutMs: number) =>
    new Promise<R>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.slice(from))}`),
          ),
        timeoutMs,
      );
      const check = () => {
        const hit = messages.slice(from).find((m) => m.data && test(m.data));
        if (hit?.data) {
          clearTimeout(timer);
          resolve(hit.data);
        } else waiters.push(check);
      };
      check();
    });
  return {
    messages,
    failed,
    stop,
    until: (test, timeoutMs = 5000) => waitFrom(0, test, timeoutMs),
    next: (test = () => true, timeoutMs = 5000) => waitFrom(messages.length, test, timeoutMs),
    latest: () => messages.at(-1)?.data,
  };
}

export interface Outcome {
  kind: 'next' | 'error' | 'closed';
  data?: unknown;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
  code?: number;
}

/**
 * The first thing one operation over WebSocket gets: data, an `error` message for it alone, or the
 * socket's close (with its code). The operation ends by itself.
 */
export function once(client: Client, payload: { query: string; variables?: Record<string, unknown> }) {
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(outcome);
      }
    };
    client.subscribe(payload, {
      next: (result) =>
        settle({ kind: 'next', data: result.data, errors: result.errors as Outcome['errors'] }),
      error: (err) =>
        settle(
          Array.isArray(err)
            ? { kind: 'error', errors: err }
            : { kind: 'closed', code: (err as { code?: number }).code },
        ),
      complete: () => settle({ kind: 'next' }),
    });
  });
}
