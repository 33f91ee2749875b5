import { connect as tcp } from 'node:net';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WatchAvailabilityDocument } from '../generated/graphql.ts';
import { abuseLimits } from '../helpers/abuse.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, receive } from '../helpers/fixtures.ts';
import { connect, once, subscribe } from '../helpers/live.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({
    abuse: abuseLimits({
      connections: { subscriptionsPerSocket: 2, socketsPerCaller: 2, streamsPerCaller: 1 },
    }),
  });
  staff = await t.token('staff', 'staff-caps');
});
afterAll(() => t?.stop());

/** Opens a socket and runs `{ __typename }`: 'ok', or the close code it gets. */
function openSocket(token?: string) {
  let closeCode: number | undefined;
  const client = createClient({
    url: `ws://127.0.0.1:${t.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    keepAlive: 0,
    on: {
      closed: (event) => {
        closeCode = (event as { code: number }).code;
      },
    },
    onNonLazyError: () => {},
  });
  const outcome = new Promise<{ result: 'ok' | number; reason?: string }>((resolve) => {
    client.on('closed', (event) => {
      const e = event as { code: number; reason: string };
      resolve({ result: e.code, reason: e.reason });
    });
    client.subscribe(
      { query: '{ __typename }' },
      { next: () => resolve({ result: 'ok' }), error: () => {}, complete: () => {} },
    );
  });
  return { client, outcome, closeCode: () => closeCode };
}

describe('subscriptions per socket', () => {
  it('refuses the operation past the cap with an error for it alone; the others go on', async () => {
    const { id } = await createProduct(t, staff);
    const client = connect(t.port, await t.token('customer', 'subs-1'));
    try {
      const first = subscribe(client, WatchAvailabilityDocument, { productId: id });
      const second = subscribe(client, WatchAvailabilityDocument, { productId: id });
      await first.until(() => true);
      await second.until(() => true);
      const third = await once(client, {
        query: print(WatchAvailabilityDocument),
        variables: { productId: id },
      });
      expect(third.kind).toBe('error');
      expect(third.errors?.[0]?.extensions).toMatchObject({
        code: 'RATE_LIMITED',
        limit: 'subscriptionsPerSocket',
      });
      await receive(t, staff, id, 4);
      await first.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 4);
      await second.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 4);
      // A slot freed is a slot to use.
      first.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const again = subscribe(client, WatchAvailabilityDocument, { productId: id });
      await again.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 4);
    } finally {
      await client.dispose();
    }
  });
});

describe('sockets per caller', () => {
  it('closes the socket past the cap with 4429 and a reason; another caller is not affected', async () => {
    const token = await t.token('customer', 'sockets-1');
    const a = openSocket(token);
    const b = openSocket(token);
    expect((await a.outcome).result).toBe('ok');
    expect((await b.outcome).result).toBe('ok');
    const c = openSocket(token);
    const refused = await c.outcome;
    expect(refused.result).toBe(4429);
    expect(refused.reason).toMatch(/at most 2 per caller/);
    const other = openSocket(await t.token('customer', 'sockets-2'));
    expect((await other.outcome).result).toBe('ok');
    // Closing one frees its place.
    await a.client.dispose();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const d = openSocket(token);
    expect((await d.outcome).result).toBe('ok');
    for (const s of [b, c, other, d]) await s.client.dispose();
  });
});

describe('event streams per caller', () => {
  it('answers a stream past the cap with HTTP 429 and a GraphQL error; a closed stream frees its place', async () => {
    const { id } = await createProduct(t, staff);
    const token = await t.token('customer', 'streams-1');
    const open = (signal?: AbortSignal) =>
      fetch(t.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query: print(WatchAvailabilityDocument), variables: { productId: id } }),
        ...(signal ? { signal } : {}),
      });
    const abort = new AbortController();
    const first = await open(abort.signal);
    expect(first.status).toBe(200);
    const second = await open();
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe('1');
    const body = (await second.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.extensions).toEqual({ code: 'RATE_LIMITED', limit: 'streamsPerCaller' });
    abort.abort();
    await first.body?.cancel().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = new AbortController();
    const again = await open(third.signal);
    expect(again.status).toBe(200);
    third.abort();
  });
});

describe('open connections', () => {
  it('answers a connection past the cap with a complete HTTP 503, never a silent drop', async () => {
    const small = await startTestApp({ abuse: abuseLimits({ connections: { openConnections: 2 } }) });
    const held = [tcp(small.port, '127.0.0.1'), tcp(small.port, '127.0.0.1')];
    try {
      await Promise.all(held.map((s) => new Promise((resolve) => s.once('connect', resolve))));
      const extra = tcp(small.port, '127.0.0.1');
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        extra.on('data', (chunk) => {
          text += chunk.toString();
        });
        extra.once('connect', () => extra.write('GET /graphql HTTP/1.1\r\nHost: x\r\n\r\n'));
        extra.once('close', () => resolve(text));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 503 /);
      expect(answer).toContain('Retry-After: 1');
      expect(answer).toContain('"code":"OVERLOADED"');
      expect(answer).toContain('"limit":"openConnections"');
    } finally {
      for (const s of held) s.destroy();
      await small.stop();
    }
  });
});
