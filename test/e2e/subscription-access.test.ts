import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { log } from '../../src/base/log.ts';
import { schema } from '../../src/schema/index.ts';
import {
  WatchAvailabilityDocument,
  WatchBackorderDocument,
  WatchNotificationsDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { newCustomer } from '../helpers/engine.ts';
import { createProduct, order, placed } from '../helpers/fixtures.ts';
import { connect, once } from '../helpers/live.ts';

/**
 * Who may subscribe to what is decided when the subscription starts, for every subscription field, role
 * and transport: a refusal is a GraphQL error with its code (over SSE below HTTP 500; over WebSocket an
 * `error` message for that operation, the socket going on), never a fault logged with its stack.
 */
let t: TestApp;
let staff: string;
const clients: Client[] = [];
const streams: Stream[] = [];
const errorLog = vi.spyOn(log, 'error');

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-subscription-access');
});
afterEach(async () => {
  for (const s of streams.splice(0)) s.stop();
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  // A refusal is an answer, not a fault: nothing was logged as an internal error.
  const logged = [...errorLog.mock.calls];
  errorLog.mockClear();
  expect(logged).toEqual([]);
});
afterAll(async () => {
  errorLog.mockRestore();
  await t?.stop();
});

const VIAS = ['SSE (POST)', 'SSE (GET)', 'WebSocket'] as const;
type Via = (typeof VIAS)[number];

interface Result {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

interface Stream {
  via: Via;
  /** The HTTP status of the answer (SSE only). */
  status?: number;
  /** The socket the operation runs on (WebSocket only). */
  client?: Client;
  readonly results: Result[];
  /** How the operation ended: SSE `complete` or end of the answer, a WebSocket `error` message or close. */
  readonly ended: Promise<'complete' | 'error' | 'closed'>;
  /** The first result from index `from` on that satisfies `test`. */
  next(test?: (r: Result) => boolean, timeoutMs?: number, from?: number): Promise<Result>;
  stop(): void;
}

/** Opens one subscription by `via`; resolves once the HTTP answer's headers are in, or at once (WebSocket). */
async function open<R, V extends Record<string, unknown>>(
  via: Via,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<Stream> {
  const results: Result[] = [];
  const waiters: (() => void)[] = [];
  let end: (how: 'complete' | 'error' | 'closed') => void = () => {};
  const ended = new Promise<'complete' | 'error' | 'closed'>((resolve) => {
    end = resolve;
  });
  const push = (r: Result) => {
    results.push(r);
    for (const w of waiters.splice(0)) w();
  };
  const next: Stream['next'] = (test = () => true, timeoutMs = 5000, from = 0) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${via}: nothing matching in ${timeoutMs} ms; got ${JSON.stringify(results)}`)),
        timeoutMs,
      );
      const check = () => {
        const hit = results.slice(from).find(test);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });

  if (via === 'WebSocket') {
    const client = connect(t.port, token);
    clients.push(client);
    client.on('closed', () => end('closed'));
    const stop = client.subscribe(
      { query: print(document), variables },
      {
        next: (r) => push(r as Result),
        error: (err) => {
          if (Array.isArray(err)) {
            push({ errors: err });
            end('error');
          } else end('closed');
        },
        complete: () => end('complete'),
      },
    );
    const stream: Stream = { via, client, results, ended, next, stop };
    streams.push(stream);
    return stream;
  }

  const controller = new AbortController();
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  const query = print(document);
  const res =
    via === 'SSE (GET)'
      ? await fetch(`${t.url}?${new URLSearchParams({ query, variables: JSON.stringify(variables) })}`, {
          headers,
          signal: controller.signal,
        })
      : await fetch(t.url, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: controller.signal,
        });
  const stream: Stream = {
    via,
    status: res.status,
    results,
    ended,
    next,
    stop: () => controller.abort(),
  };
  streams.push(stream);
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    push((await res.json()) as Result);
    end('complete');
    return stream;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let text = '';
    const reader = res.body!.getReader();
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        text += decoder.decode(chunk.value, { stream: true });
        for (let cut = text.indexOf('\n\n'); cut >= 0; cut = text.indexOf('\n\n')) {
          const lines = text.slice(0, cut).split('\n');
          text = text.slice(cut + 2);
          const event = lines
            .find((l) => l.startsWith('event:'))
            ?.slice(6)
            .trim();
          const data = lines
            .find((l) => l.startsWith('data:'))
            ?.slice(5)
            .trim();
          if (event === 'next' && data) push(JSON.parse(data) as Result);
          if (event === 'complete') end('complete');
        }
      }
    } catch {
      // aborted by stop()
    }
    end('complete');
  })();
  return stream;
}

/** A refusal with `code`: no data, the operation ended, and (WebSocket) the socket still serves. */
async function expectRefused(stream: Stream, code: string) {
  const first = await stream.next();
  expect(first.data ?? null).toBeNull();
  expect(first.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  if (stream.via === 'WebSocket') {
    expect(await stream.ended).toBe('error');
    expect(await once(stream.client!, { query: '{ __typename }' })).toMatchObject({
      kind: 'next',
      data: { __typename: 'Query' },
    });
  } else {
    expect(stream.status).toBeLessThan(500);
    expect(await stream.ended).toBe('complete');
  }
  expect(stream.results).toHaveLength(1);
}

/** Data first, and no error. */
async function expectServed(stream: Stream, field: string) {
  const first = await stream.next();
  expect(first.errors).toBeUndefined();
  expect(first.data?.[field]).toBeTruthy();
  if (stream.status !== undefined) expect(stream.status).toBe(200);
}

it('covers every subscription field of the schema', () => {
  // A new subscription field needs its cases below.
  expect(Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).sort()).toEqual([
    'backorderUpdated',
    'notificationAdded',
    'productAvailabilityChanged',
  ]);
});

describe.each(VIAS)('over %s', (via) => {
  describe('productAvailabilityChanged: open to everyone', () => {
    it.each([
      ['anonymous', () => Promise.resolve(undefined)],
      ['a customer', async () => (await newCustomer(t, 'avail')).token],
      ['staff', () => Promise.resolve(staff)],
    ])('serves %s', async (_, who) => {
      const { id } = await createProduct(t, staff);
      const stream = await open(via, WatchAvailabilityDocument, { productId: id }, await who());
      await expectServed(stream, 'productAvailabilityChanged');
    });
  });

  describe('backorderUpdated: its customer and staff', () => {
    async function backorder() {
      const { id } = await createProduct(t, staff);
      const owner = await newCustomer(t, 'bo-owner');
      const o = placed(await order(t, owner.token, [{ productId: id, quantity: 1 }]));
      return { owner, id: o.lines[0]!.backorder!.id };
    }

    it('refuses an anonymous caller with FORBIDDEN', async () => {
      const { id } = await backorder();
      await expectRefused(await open(via, WatchBackorderDocument, { id }), 'FORBIDDEN');
    });

    it('serves its customer', async () => {
      const { owner, id } = await backorder();
      await expectServed(await open(via, WatchBackorderDocument, { id }, owner.token), 'backorderUpdated');
    });

    it("answers another customer's backorder as one that does not exist (NOT_FOUND)", async () => {
      const { id } = await backorder();
      const other = await newCustomer(t, 'bo-other');
      await expectRefused(await open(via, WatchBackorderDocument, { id }, other.token), 'NOT_FOUND');
    });

    it('serves staff', async () => {
      const { id } = await backorder();
      await expectServed(await open(via, WatchBackorderDocument, { id }, staff), 'backorderUpdated');
    });
  });

  describe('notificationAdded: customers, each their own', () => {
    it('refuses an anonymous caller with FORBIDDEN', async () => {
      await expectRefused(await open(via, WatchNotificationsDocument, {}), 'FORBIDDEN');
    });

    it('refuses staff with FORBIDDEN', async () => {
      await expectRefused(await open(via, WatchNotificationsDocument, {}, staff), 'FORBIDDEN');
    });

    it("serves a customer its own notifications, never another customer's", async () => {
      const { id } = await createProduct(t, staff);
      const [alice, bob] = [await newCustomer(t, 'feed-a'), await newCustomer(t, 'feed-b')];
      const feeds = {
        alice: await open(via, WatchNotificationsDocument, {}, alice.token),
        bob: await open(via, WatchNotificationsDocument, {}, bob.token),
      };
      // A WebSocket's subscription starts a moment after it is sent: order until one notification arrives.
      const heard = async (who: { token: string }, feed: Stream) => {
        for (let attempt = 0; ; attempt++) {
          const from = feed.results.length;
          placed(await order(t, who.token, [{ productId: id, quantity: 1 }]));
          await t.app.outbox.poke();
          try {
            return await feed.next(() => true, 1000, from);
          } catch (err) {
            if (attempt === 4) throw err;
          }
        }
      };
      const first = await heard(alice, feeds.alice);
      expect(first.errors).toBeUndefined();
      expect(first.data?.notificationAdded).toMatchObject({ type: 'BACKORDER_CREATED' });
      const own = await heard(bob, feeds.bob);
      expect(own.errors).toBeUndefined();
      // Each heard their own orders' notifications only.
      const ids = (feed: Stream) =>
        new Set(feed.results.map((r) => (r.data?.notificationAdded as { id?: string } | undefined)?.id));
      const [heardByAlice, heardByBob] = [ids(feeds.alice), ids(feeds.bob)];
      expect([...heardByBob].filter((n) => heardByAlice.has(n))).toEqual([]);
      if (feeds.bob.status !== undefined) expect(feeds.bob.status).toBe(200);
    });
  });
});
