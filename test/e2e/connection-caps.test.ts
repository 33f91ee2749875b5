import { createServer } from 'node:http';
import { type AddressInfo, type Socket, connect as tcp } from 'node:net';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConnectionGuard } from '../../src/edge/limits/connection-caps.ts';
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

/** A connection from `localAddress` (any of 127.0.0.0/8 on Linux) that sends nothing: a slow client. */
function slowSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcp({ host: '127.0.0.1', port, localAddress });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** A slow socket that records what it is sent and whether the server closed it. */
async function listening(port: number, localAddress = '127.0.0.1') {
  const socket = await slowSocket(port, localAddress);
  const seen = { socket, text: '', ended: 'end' as 'end' | 'reset', closed: false };
  socket.on('data', (chunk) => {
    seen.text += chunk.toString('latin1');
  });
  socket.on('error', () => {
    seen.ended = 'reset';
  });
  socket.on('close', () => {
    seen.closed = true;
  });
  return seen;
}

/** Sends one request from `localAddress` on a fresh connection; resolves with all it read and how it ended. */
function exchange(port: number, localAddress = '127.0.0.1') {
  return new Promise<{ text: string; ended: 'end' | 'reset' }>((resolve) => {
    const socket = tcp({ host: '127.0.0.1', port, localAddress });
    let text = '';
    let ended: 'end' | 'reset' = 'end';
    socket.once('connect', () =>
      socket.write(
        'GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nConnection: close\r\n\r\n',
      ),
    );
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {
      ended = 'reset';
    });
    socket.on('close', () => resolve({ text, ended }));
  });
}

const closed = (socket: Socket) =>
  new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });

describe('connections per address', () => {
  it("answers a connection past its address's cap with a complete HTTP 429; other addresses are served, a closed connection frees its slot", async () => {
    // The review: with MAX_OPEN_CONNECTIONS at 150, one address's 200 slow sockets shut out 489 of 594
    // other connections (503). Here the port takes 20, one address 5, and one address opens 35.
    const small = await startTestApp({
      abuse: abuseLimits({ connections: { openConnections: 20, connectionsPerAddress: 5 } }),
    });
    const attack = await Promise.all(Array.from({ length: 35 }, () => listening(small.port)));
    try {
      // Every refused connection is answered and closed at once; wait for them (a loaded machine is slow).
      for (let waited = 0; attack.filter((a) => a.closed).length < 30 && waited < 5000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const open = attack.filter((a) => !a.closed);
      const refused = attack.filter((a) => a.closed);
      expect([open.length, refused.length]).toEqual([5, 30]);
      for (const a of open) expect(a.text).toBe('');
      for (const { text, ended } of refused) {
        expect(ended).toBe('end');
        expect(text).toMatch(/^HTTP\/1\.1 429 /);
        expect(text).toContain('Retry-After: 1');
        expect(text).toContain('Connection: close');
        const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
          errors: { message: string; extensions: Record<string, unknown> }[];
        };
        expect(body.errors[0]!.extensions).toEqual({ code: 'RATE_LIMITED', limit: 'connectionsPerAddress' });
        expect(body.errors[0]!.message).toMatch(/at most 5/);
      }
      // Another address is not shut out: it is served while the five are held, and may hold its own.
      const other = await exchange(small.port, '127.0.0.2');
      expect(other.text).toMatch(/^HTTP\/1\.1 200 /);
      expect(other.text).toContain('"__typename":"Query"');
      const others = await Promise.all(Array.from({ length: 4 }, () => listening(small.port, '127.0.0.2')));
      expect((await exchange(small.port, '127.0.0.3')).text).toMatch(/^HTTP\/1\.1 200 /);
      expect((await exchange(small.port)).text).toMatch(/^HTTP\/1\.1 429 /);
      // Closing one of the first address's connections frees its slot.
      await closed(open[0]!.socket);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await exchange(small.port)).text).toMatch(/^HTTP\/1\.1 200 /);
      expect((await exchange(small.port)).text).toMatch(/^HTTP\/1\.1 200 /);
      for (const a of others) a.socket.destroy();
    } finally {
      for (const a of attack) a.socket.destroy();
      await small.stop();
    }
  });

  it('is off by default: one address may hold every connection the port takes', async () => {
    expect(abuseLimits().connections.connectionsPerAddress).toBe(0);
    const small = await startTestApp({ abuse: abuseLimits({ connections: { openConnections: 8 } }) });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 7; i++) held.push(await slowSocket(small.port));
      expect((await exchange(small.port)).text).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      for (const s of held) s.destroy();
      await small.stop();
    }
  });

  it('forgets an address once its last connection closes', async () => {
    const guard = new ConnectionGuard(abuseLimits({ connections: { connectionsPerAddress: 2 } }).connections);
    const server = createServer((_req, res) => res.end('ok'));
    guard.watch(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sockets: Socket[] = [];
    try {
      for (const from of ['127.0.0.1', '127.0.0.1', '127.0.0.4', '127.0.0.5']) {
        sockets.push(await slowSocket(port, from));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(Object.fromEntries(guard.connectionsByAddress ?? [])).toEqual({
        '127.0.0.1': 2,
        '127.0.0.4': 1,
        '127.0.0.5': 1,
      });
      await Promise.all(sockets.map(closed));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(guard.connectionsByAddress.size).toBe(0);
      expect(guard.openConnections).toBe(0);
    } finally {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
