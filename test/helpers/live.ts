import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscription<R> {
  /** Every message received so far, in order. */
  readonly messages: { data?: R | null; errors?: readonly { message: string }[] }[];
  /** Resolves with the first message (from now on, or already received after `from`) that satisfies `test`. */
  until(test: (data: R) => boolean, timeoutMs?: number): Promise<R>;
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
  return {
    messages,
    failed,
    stop,
    until(test, timeoutMs = 5000) {
      return new Promise<R>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`)),
          timeoutMs,
        );
        const check = () => {
          const hit = messages.find((m) => m.data && test(m.data));
          if (hit?.data) {
            clearTimeout(timer);
            resolve(hit.data);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}
