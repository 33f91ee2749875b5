import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'graphql-ws';
import { type JWTPayload, SignJWT } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { createProduct, receive, uniqueKey } from '../helpers/fixtures.ts';

/** Which bearer tokens are accepted, over HTTP and WebSocket, and a socket that ends with its token. */
const ISSUER = 'https://auth.shop.example';
const AUDIENCE = 'backorder-api';
const ROOT = path.resolve(import.meta.dirname, '../..');
const DAY = 86_400;

let t: TestApp;
let strict: TestApp;

beforeAll(async () => {
  [t, strict] = await Promise.all([
    startTestApp(),
    startTestApp({ tokens: { issuer: ISSUER, audience: AUDIENCE } }),
  ]);
});
afterAll(() => Promise.all([t?.stop(), strict?.stop()]));

const now = () => Math.floor(Date.now() / 1000);
const key = new TextEncoder().encode(TEST_SECRET);

/** A token with exactly these claims (numbers in seconds since the epoch). */
function token(claims: JWTPayload & { role?: string }): Promise<string> {
  return new SignJWT({ role: 'customer', sub: 'c-1', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

async function viewer(app: TestApp, jwt: string) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ query: '{ viewer { customerId } }' }),
  });
  const body = (await res.json()) as {
    data?: { viewer: { customerId: string } | null } | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return { status: res.status, body };
}

/**
 * Connects over graphql-ws with the token under `key` of connectionParams and runs `{ __typename }`; resolves
 * with the close code, or 'ok'.
 */
function overSocket(app: TestApp, jwt: string, key = 'authorization'): Promise<number | 'ok'> {
  return new Promise((resolve) => {
    const client = createClient({
      url: `ws://127.0.0.1:${app.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { [key]: `Bearer ${jwt}` },
      retryAttempts: 0,
      on: { closed: (event) => resolve((event as { code: number }).code) },
    });
    client.subscribe(
      { query: '{ __typename }' },
      { next: () => resolve('ok'), error: () => {}, complete: () => void client.dispose() },
    );
  });
}

describe('tokens that are refused: HTTP 401 UNAUTHENTICATED, WebSocket close 4403', () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['without exp', () => token({ iat: now() }), /exp/],
    [
      'living longer than 30 days from its iat',
      () => token({ iat: now(), exp: now() + 31 * DAY }),
      /30 days/,
    ],
    [
      'without iat, living longer than 30 days from now',
      () => token({ exp: now() + 30 * DAY + 120 }),
      /30 days/,
    ],
    [
      'issued long ago for more than 30 days, though not yet expired',
      () => token({ iat: now() - 40 * DAY, exp: now() + DAY }),
      /30 days/,
    ],
    [
      'issued in the future (beyond a minute of clock skew)',
      () => token({ iat: now() + 120, exp: now() + 3600 }),
      /future/,
    ],
    ['expired', () => token({ iat: now() - 7200, exp: now() - 60 }), /expired/],
    // Postgres text holds neither: such a subject failed later, as an internal error.
    ['whose sub holds a NUL character', () => token({ sub: 'c-\u0000-1', exp: now() + 3600 }), /sub/],
    ['whose sub is a lone surrogate', () => token({ sub: '\ud800', exp: now() + 3600 }), /sub/],
  ];

  it.each(cases)('refuses a token %s', async (_, make, message) => {
    const jwt = await make();
    const res = await viewer(t, jwt);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0]?.message).toMatch(message);
    expect(await overSocket(t, jwt)).toBe(4403);
  });

  it.each([
    ['without an issuer', () => token({ iat: now(), exp: now() + 3600, aud: AUDIENCE })],
    [
      'from another issuer',
      () => token({ iat: now(), exp: now() + 3600, iss: 'https://other', aud: AUDIENCE }),
    ],
    ['for another audience', () => token({ iat: now(), exp: now() + 3600, iss: ISSUER, aud: 'another-api' })],
  ])('refuses a token %s where an issuer and audience are set', async (_, make) => {
    const jwt = await make();
    const res = await viewer(strict, jwt);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await overSocket(strict, jwt)).toBe(4403);
  });
});

describe('the credential of a WebSocket is connectionParams.authorization, exactly so named', () => {
  it.each(['Authorization', 'AUTHORIZATION', 'authoriZation'])(
    'closes a socket whose token is under %s with 4403, rather than serving it as anonymous',
    async (key) => {
      expect(await overSocket(t, await t.token('customer', 'c-1'), key)).toBe(4403);
    },
  );

  it('closes a socket that names the credential twice, in two casings, with 4403', async () => {
    const jwt = await t.token('customer', 'c-1');
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: `ws://127.0.0.1:${t.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${jwt}`, Authorization: `Bearer ${jwt}` },
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect(await closed).toBe(4403);
  });
});

describe('tokens that are accepted', () => {
  it.each([
    ['of exactly 30 days', () => token({ iat: now(), exp: now() + 30 * DAY })],
    ['without iat, ending within 30 days', () => token({ exp: now() + 29 * DAY })],
    ['issued a few seconds ahead (clock skew)', () => token({ iat: now() + 30, exp: now() + 3600 })],
    ['issued 29 days ago for 30 days', () => token({ iat: now() - 29 * DAY, exp: now() + DAY })],
    ['signed by the service itself (as npm start prints them)', () => t.token('customer', 'c-1')],
  ])('accepts a token %s', async (_, make) => {
    const jwt = await make();
    expect((await viewer(t, jwt)).body).toEqual({ data: { viewer: { customerId: 'c-1' } } });
    expect(await overSocket(t, jwt)).toBe('ok');
  });

  it('accepts the issuer and audience it is set to, and signs its own tokens with them', async () => {
    const jwt = await token({ iat: now(), exp: now() + 3600, iss: ISSUER, aud: AUDIENCE });
    expect((await viewer(strict, jwt)).body.data).toEqual({ viewer: { customerId: 'c-1' } });
    expect((await viewer(strict, await strict.token('customer', 'c-1'))).body.data).toEqual({
      viewer: { customerId: 'c-1' },
    });
  });

  it('accepts what `npm run token` prints, with the issuer and audience from the environment', async () => {
    const run = (args: string[], env: Record<string, string> = {}) =>
      promisify(execFile)(path.join(ROOT, 'node_modules/.bin/tsx'), ['src/edge/scripts/token.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, JWT_SECRET: TEST_SECRET, ...env },
      });
    const plain = (await run(['--role', 'customer', '--sub', 'c-1'])).stdout.trim();
    expect((await viewer(t, plain)).body.data).toEqual({ viewer: { customerId: 'c-1' } });
    const week = (await run(['--role', 'customer', '--sub', 'c-1', '--expires', '7d'])).stdout.trim();
    expect((await viewer(t, week)).body.data).toEqual({ viewer: { customerId: 'c-1' } });
    const issued = (
      await run(['--role', 'customer', '--sub', 'c-1'], { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE })
    ).stdout.trim();
    expect((await viewer(strict, issued)).body.data).toEqual({ viewer: { customerId: 'c-1' } });
    // a lifetime the server would refuse is not printed at all
    await expect(run(['--role', 'customer', '--expires', '31d'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('30 days'),
    });
  });
});

describe('a WebSocket lives no longer than its token', () => {
  it('is closed with 4403 at the moment the token expires, its subscription served until then', async () => {
    const staff = await t.token('staff');
    const { id } = await createProduct(t, staff);
    const exp = now() + 2;
    const jwt = await token({ iat: now(), exp });
    let updates = 0;
    const closed = new Promise<{ code: number; at: number }>((resolve) => {
      const client = createClient({
        url: `ws://127.0.0.1:${t.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${jwt}` },
        retryAttempts: 0,
        on: { closed: (event) => resolve({ code: (event as { code: number }).code, at: Date.now() }) },
      });
      client.subscribe(
        {
          query: `subscription ($id: ID!) { productAvailabilityChanged(productId: $id) { availability { quantityAvailable } } }`,
          variables: { id },
        },
        { next: () => updates++, error: () => {}, complete: () => {} },
      );
    });
    const { code, at } = await closed;
    expect(code).toBe(4403);
    expect(at).toBeGreaterThanOrEqual(exp * 1000);
    expect(at).toBeLessThan(exp * 1000 + 1000);
    expect(updates).toBeGreaterThanOrEqual(1);
  });

  it('runs no operation that arrives after the token expired, even before the socket is closed', async () => {
    const staff = await t.token('staff');
    const { id } = await createProduct(t, staff);
    await receive(t, staff, id, 10);
    const orders = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM customer_order`.execute(t.database.db))
        .rows[0]!.n;
    const before = await orders();
    const exp = now() + 2;
    const socket = new WebSocket(`ws://127.0.0.1:${t.port}/graphql`, 'graphql-transport-ws');
    const messages: { type: string; id?: string }[] = [];
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const acked = new Promise<void>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string };
        messages.push(message);
        if (message.type === 'connection_ack') resolve();
      }),
    );
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({
        type: 'connection_init',
        payload: { authorization: `Bearer ${await token({ iat: now(), exp })}` },
      }),
    );
    await acked;
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() - 40));
    socket.send(
      JSON.stringify({
        id: 'late',
        type: 'subscribe',
        payload: {
          query: `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { __typename } }`,
          variables: { input: { idempotencyKey: uniqueKey(), lines: [{ productId: id, quantity: 1 }] } },
        },
      }),
    );
    // This process is the server too: hold it until past the expiry, so that the operation is read late.
    const until = exp * 1000 + 200;
    while (Date.now() < until) {
      // busy: the server reads the operation only after the token has expired
    }
    expect(await closed).toBe(4403);
    expect(messages.filter((m) => m.id === 'late' && m.type === 'next')).toEqual([]);
    expect(await orders()).toBe(before);
  });

  it('stays open with a token of the longest lifetime (timers longer than 24.8 days do not fire at once)', async () => {
    expect(await overSocket(t, await token({ iat: now(), exp: now() + 30 * DAY }))).toBe('ok');
    const client = createClient({
      url: `ws://127.0.0.1:${t.port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${await t.token('customer')}` },
      retryAttempts: 0,
      lazy: false,
    });
    let closes = 0;
    client.on('closed', () => closes++);
    await new Promise((resolve) => client.on('connected', resolve));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(closes).toBe(0);
    await client.dispose();
  });
});

describe('a Server-Sent Events stream lives no longer than its token', () => {
  it.each(['POST', 'GET'])(
    'over %s: ends within a second of the expiry with UNAUTHENTICATED, its subscription served until then',
    async (method) => {
      const staff = await t.token('staff');
      const { id } = await createProduct(t, staff);
      const exp = now() + 2;
      const jwt = await token({ iat: now(), exp });
      const query = `subscription ($id: ID!) { productAvailabilityChanged(productId: $id) { availability { quantityAvailable } } }`;
      const controller = new AbortController();
      const headers = { accept: 'text/event-stream', authorization: `Bearer ${jwt}` };
      const res =
        method === 'GET'
          ? await fetch(`${t.url}?${new URLSearchParams({ query, variables: JSON.stringify({ id }) })}`, {
              headers,
              signal: controller.signal,
            })
          : await fetch(t.url, {
              method: 'POST',
              headers: { ...headers, 'content-type': 'application/json' },
              body: JSON.stringify({ query, variables: { id } }),
              signal: controller.signal,
            });
      expect(res.status).toBe(200);
      // Read to the end of the stream, giving up 3 s after the expiry.
      const giveUp = setTimeout(() => controller.abort(), exp * 1000 + 3000 - Date.now());
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let received = false;
      try {
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          text += decoder.decode(chunk.value, { stream: true });
          if (!received && text.includes('"quantityAvailable":0')) {
            received = true;
            void receive(t, staff, id, 4);
          }
        }
      } catch {
        // given up: the stream outlived its token
      }
      const endedAt = Date.now();
      clearTimeout(giveUp);
      const events = text
        .split('\n\n')
        .filter((block) => block.startsWith('event:'))
        .map((block) => {
          const [event, data] = block.split('\n').map((line) => line.slice(line.indexOf(':') + 1).trim());
          return { event, data: data ? (JSON.parse(data) as Record<string, unknown>) : undefined };
        });
      expect(events.map((e) => e.event)).toEqual(['next', 'next', 'next', 'complete']);
      expect(events.slice(0, 2).map((e) => e.data)).toEqual([
        { data: { productAvailabilityChanged: { availability: { quantityAvailable: 0 } } } },
        { data: { productAvailabilityChanged: { availability: { quantityAvailable: 4 } } } },
      ]);
      expect(events[2]!.data).toEqual({
        errors: [{ message: 'Token has expired', extensions: { code: 'UNAUTHENTICATED' } }],
      });
      expect(endedAt).toBeGreaterThanOrEqual(exp * 1000);
      expect(endedAt).toBeLessThan(exp * 1000 + 1000);
    },
  );
});
