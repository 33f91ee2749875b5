import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAuthenticator } from '../../src/edge/auth/tokens.ts';
import {
  CreateProductDocument,
  ProductAvailabilityDocument,
  WatchAvailabilityDocument,
} from '../generated/graphql.ts';
import { abuseLimits, redisForTests, TEST_REDIS_URL } from '../helpers/abuse.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, receive, uniqueSku } from '../helpers/fixtures.ts';
import { connect, once, subscribe } from '../helpers/live.ts';
import { rawExchange } from '../helpers/raw-http.ts';

// With REDIS_URL set (as in CI), the limits count in Redis; without it, in memory. The same tests run both.
const useRedis = Boolean(process.env.REDIS_URL);
const runnable = useRedis ? await redisForTests() : true;
const store = useRedis ? 'Redis' : 'memory';
/** Operations per customer, requests per address, refused credentials per address: per window. */
const PER_WINDOW = 3;
const PER_ADDRESS = 8;
const FAILED_AUTH = 2;

let direct: TestApp; // no trusted proxy: every request here comes from 127.0.0.1
let proxied: TestApp; // behind one trusted proxy: each test sends from addresses of its own
let byToken: TestApp; // no limit per address: customers counted by subject alone
let quick: TestApp; // behind one trusted proxy, a window of 1 s
let staff: string;
let sku: string;
let run = 0;

const limits = (
  name: string,
  rate: { trustProxyHops: number; anonymous?: number; failedAuth?: number; windowSeconds?: number },
) =>
  abuseLimits({
    rate: {
      customer: PER_WINDOW,
      anonymous: PER_ADDRESS,
      failedAuth: FAILED_AUTH,
      windowSeconds: 60,
      ...rate,
      redisUrl: useRedis ? TEST_REDIS_URL : undefined,
      // Counters in a shared Redis outlive a run: each run counts under its own keys.
      keyPrefix: `test-${process.pid}-${Date.now()}-${name}`,
    },
  });

beforeAll(async () => {
  if (!runnable) return;
  [direct, proxied, byToken, quick] = await Promise.all([
    startTestApp({ abuse: limits('direct', { trustProxyHops: 0 }) }),
    startTestApp({ abuse: limits('proxied', { trustProxyHops: 1 }) }),
    startTestApp({ abuse: limits('by-token', { trustProxyHops: 0, anonymous: 0 }) }),
    startTestApp({ abuse: limits('quick', { trustProxyHops: 1, failedAuth: 1, windowSeconds: 1 }) }),
  ]);
  staff = await byToken.token('staff', 'staff-rate');
  sku = (await createProduct(byToken, staff)).sku;
  await createProduct(proxied, staff, { sku });
});
afterAll(async () => {
  await Promise.all([direct?.stop(), proxied?.stop(), byToken?.stop(), quick?.stop()]);
});

interface Sender {
  /** The whole Authorization header, for one that is not a Bearer token. */
  authorization?: string;
  token?: string;
  forwardedFor?: string;
}

/** A POST of `body` as it is (any string: malformed, oversized). */
async function post(app: TestApp, body: string, options: Sender = {}) {
  const authorization = options.authorization ?? (options.token ? `Bearer ${options.token}` : undefined);
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(authorization ? { authorization } : {}),
      ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
    },
    body,
  });
  const text = await res.text();
  let parsed: {
    data?: { product?: unknown } | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  } = {};
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: parsed };
}

async function ask(app: TestApp, options: Sender & { sku?: string } = {}) {
  const variables = { sku: options.sku ?? sku };
  return post(app, JSON.stringify({ query: print(ProductAvailabilityDocument), variables }), options);
}

function expectRefused(answer: Awaited<ReturnType<typeof post>>, limit: string, what = limit) {
  expect(answer.status, what).toBe(429);
  expect(Number(answer.retryAfter), what).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter), what).toBeLessThanOrEqual(60);
  expect(answer.body.data, what).toBeUndefined();
  expect(answer.body.errors?.[0]?.extensions, what).toMatchObject({ code: 'RATE_LIMITED', limit });
}

/** A graphql-ws client whose upgrade request comes through the trusted proxy from `address`. */
function connectFrom(app: TestApp, address: string, authorization?: string) {
  const closes: { code: number; reason: string }[] = [];
  class FromAddress extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': address } });
    }
  }
  const client = createClient({
    url: `ws://127.0.0.1:${app.port}/graphql`,
    webSocketImpl: FromAddress,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
    lazy: true,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closes.push({ code, reason: String(reason) });
      },
    },
  });
  return { client, closes };
}

const TYPENAME = { query: '{ __typename }' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const nextAddress = () => `198.51.100.${++run}`;

describe.skipIf(!runnable)(`rate limits, counted in ${store}`, () => {
  it('refuses an address past its limit: HTTP 429, Retry-After, RATE_LIMITED', async () => {
    const address = nextAddress();
    for (let i = 0; i < PER_ADDRESS; i++)
      expect((await ask(proxied, { forwardedFor: address })).status).toBe(200);
    const refused = await ask(proxied, { forwardedFor: address });
    expectRefused(refused, 'rateAddress');
    // Another address is not affected.
    expect((await ask(proxied, { forwardedFor: nextAddress() })).status).toBe(200);
  });

  it('counts each customer on its own, whatever address it uses; staff are not limited', async () => {
    const [a, b] = [
      await byToken.token('customer', `rate-a-${run}`),
      await byToken.token('customer', `rate-b-${run}`),
    ];
    for (let i = 0; i < PER_WINDOW; i++) expect((await ask(byToken, { token: a })).status).toBe(200);
    const refused = await ask(byToken, { token: a });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'rateCustomer',
    });
    expect((await ask(byToken, { token: b })).status).toBe(200);
    for (let i = 0; i < PER_WINDOW * 3; i++) expect((await ask(byToken, { token: staff })).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless a proxy is trusted', async () => {
    // Without a trusted proxy every request here comes from 127.0.0.1, forged headers or not.
    let status = 200;
    for (let i = 0; i <= PER_ADDRESS && status === 200; i++) {
      status = (await ask(direct, { forwardedFor: nextAddress() })).status;
    }
    expect(status).toBe(429);
  });

  it('believes only the entry the trusted proxy wrote, not what the client put before it', async () => {
    const real = nextAddress();
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect((await ask(proxied, { forwardedFor: `10.9.9.${i}, ${real}` })).status).toBe(200);
    }
    expect((await ask(proxied, { forwardedFor: `10.9.9.99, ${real}` })).status).toBe(429);
  });

  it('groups IPv6 addresses by /64', async () => {
    const net = `2001:db8:${++run}:1`;
    for (let i = 0; i < PER_ADDRESS; i++) {
      expect((await ask(proxied, { forwardedFor: `${net}::${i + 1}` })).status).toBe(200);
    }
    expect((await ask(proxied, { forwardedFor: `${net}:ffff:ffff:ffff:ffff` })).status).toBe(429);
    expect((await ask(proxied, { forwardedFor: `2001:db8:${run}:2::1` })).status).toBe(200);
  });

  it('over WebSocket, an operation past the limit gets an error message; the socket and its subscription go on', async () => {
    const customer = await byToken.token('customer', `rate-ws-${run}`);
    const { id } = await createProduct(byToken, staff);
    const client = connect(byToken.port, customer);
    try {
      const watch = subscribe(client, WatchAvailabilityDocument, { productId: id });
      await watch.until(() => true);
      for (let i = 1; i < PER_WINDOW; i++) {
        expect((await once(client, { query: '{ __typename }' })).kind).toBe('next');
      }
      const refused = await once(client, { query: '{ __typename }' });
      expect(refused.kind).toBe('error');
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'rateCustomer' });
      await receive(byToken, staff, id, 7);
      await watch.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 7);
    } finally {
      await client.dispose();
    }
  });

  it('over Server-Sent Events, a subscription past the limit gets an error and no events', async () => {
    const address = nextAddress();
    for (let i = 0; i < PER_ADDRESS; i++) await ask(proxied, { forwardedFor: address });
    const { id } = await createProduct(proxied, await proxied.token('staff'));
    const res = await fetch(proxied.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'x-forwarded-for': address,
      },
      body: JSON.stringify({ query: print(WatchAvailabilityDocument), variables: { productId: id } }),
    });
    const text = await res.text();
    expect(res.status).toBe(429);
    expect(text).toContain('RATE_LIMITED');
    expect(text).toContain('rateAddress');
    expect(text).not.toContain('"availability"');
  });
});

describe.skipIf(!runnable)(
  `everything from an address counts before its token or body is read (${store})`,
  () => {
    /** An address that has sent all the requests its window allows. */
    async function spentAddress(): Promise<string> {
      const address = nextAddress();
      for (let i = 0; i < PER_ADDRESS; i++)
        expect((await ask(proxied, { forwardedFor: address })).status).toBe(200);
      return address;
    }

    it('from an address over its limit, whatever arrives is refused unread: 429, Retry-After, RATE_LIMITED, nothing written', async () => {
      const address = await spentAddress();
      const never = uniqueSku('NEVER');
      const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: __typename`).join(' ');
      const cases: [string, string, Sender][] = [
        ['a bad token', JSON.stringify(TYPENAME), { token: 'not-a-jwt' }],
        ['malformed JSON', '{"query": "{ __typename }"', {}],
        ['a body over 1 MB', JSON.stringify({ ...TYPENAME, pad: 'x'.repeat(1_100_000) }), {}],
        ['a parse error', JSON.stringify({ query: '{ product(' }), {}],
        ['a validation error', JSON.stringify({ query: '{ noSuchField }' }), {}],
        ['a document over a limit (31 aliases)', JSON.stringify({ query: `{ ${aliases} }` }), {}],
        [
          "staff's mutation",
          JSON.stringify({
            query: print(CreateProductDocument),
            variables: { input: { sku: never, name: 'Never made' } },
          }),
          { token: staff },
        ],
      ];
      for (const [what, body, sender] of cases) {
        expectRefused(await post(proxied, body, { ...sender, forwardedFor: address }), 'rateAddress', what);
      }
      expect((await ask(proxied, { forwardedFor: nextAddress(), sku: never })).body.data?.product).toBeNull();
    });

    it('from an address over its limit, a body still arriving gets its 429 and a clean close, not a reset', async () => {
      const address = await spentAddress();
      const head = `POST /graphql HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${address}\r\nContent-Type: application/json\r\n`;
      const declared = await rawExchange(proxied.port, (socket) => {
        socket.write(`${head}Content-Length: 2000000\r\n\r\n`);
        for (let i = 0; i < 20; i++) socket.write('x'.repeat(100_000));
      });
      const chunked = await rawExchange(proxied.port, (socket) => {
        socket.write(`${head}Transfer-Encoding: chunked\r\n\r\n`);
        const chunk = 'x'.repeat(100_000);
        for (let i = 0; i < 12; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write('0\r\n\r\n');
      });
      for (const answer of [declared, chunked]) {
        expect(answer.text).toMatch(/^HTTP\/1\.1 429 /);
        expect(answer.text).toMatch(/\r\nretry-after: \d+\r\n/i);
        expect(answer.text).toContain('"code":"RATE_LIMITED"');
        expect(answer.text).toContain('"limit":"rateAddress"');
        expect(answer.ended).toBe('end');
      }
    });

    it('counts refused credentials per address: past its budget a credential is refused unread, a valid one too', async () => {
      const address = nextAddress();
      const forged = await createAuthenticator('another-secret-that-is-long-enough-for-hs256!').sign({
        id: 'staff-1',
        role: 'staff',
      });
      const customer = await proxied.token('customer', `rate-failed-${run}`);
      const refusedCredentials: Sender[] = [{ token: forged }, { authorization: 'Basic eDp5' }];
      expect(refusedCredentials).toHaveLength(FAILED_AUTH);
      for (const sender of refusedCredentials) {
        expect((await ask(proxied, { ...sender, forwardedFor: address })).status).toBe(401);
      }
      expectRefused(await ask(proxied, { token: forged, forwardedFor: address }), 'rateFailedAuth');
      expectRefused(await ask(proxied, { token: customer, forwardedFor: address }), 'rateFailedAuth');
      // Well under its limit of requests: without a credential the address is still served, and the same
      // token from another address is.
      expect((await ask(proxied, { forwardedFor: address })).status).toBe(200);
      expect((await ask(proxied, { token: customer, forwardedFor: nextAddress() })).status).toBe(200);
    });

    it('lets a valid credential from that address through again once the window has passed', async () => {
      const address = nextAddress();
      const customer = await quick.token('customer', `rate-quick-${run}`);
      expect((await ask(quick, { token: 'not-a-jwt', forwardedFor: address })).status).toBe(401);
      const refused = await ask(quick, { token: customer, forwardedFor: address });
      expectRefused(refused, 'rateFailedAuth');
      await sleep(Number(refused.retryAfter) * 1000 + 100);
      expect((await ask(quick, { token: customer, forwardedFor: address })).status).toBe(200);
    });

    it('over WebSocket, a connection from an address over its limit is closed with 4429 and a reason', async () => {
      const address = await spentAddress();
      const token = await proxied.token('customer', `rate-ws-spent-${run}`);
      const { client, closes } = connectFrom(proxied, address, `Bearer ${token}`);
      try {
        expect(await once(client, TYPENAME)).toMatchObject({ kind: 'closed', code: 4429 });
        expect(closes[0]?.reason).toMatch(/^Too many requests from this address: try again in \d+ s/);
      } finally {
        await client.dispose();
      }
    });

    it('over WebSocket, each connection and operation counts against the address, whoever sends it', async () => {
      const address = nextAddress();
      const sockets = await Promise.all(
        ['x', 'y', 'z'].map(async (who) =>
          connectFrom(proxied, address, `Bearer ${await proxied.token('customer', `rate-ws-${who}-${run}`)}`),
        ),
      );
      try {
        // Three customers, each within its own limit: a connection and two operations each are 9 arrivals.
        const outcomes = [];
        for (const { client } of sockets) {
          for (let i = 0; i < 2; i++) outcomes.push(await once(client, TYPENAME));
        }
        expect(outcomes.slice(0, 5).map((o) => o.kind)).toEqual(Array(5).fill('next'));
        expect(outcomes[5]?.kind).toBe('error');
        expect(outcomes[5]?.errors?.[0]?.extensions).toMatchObject({
          code: 'RATE_LIMITED',
          limit: 'rateAddress',
        });
        // The socket stays: its next operation is answered (refused again), not closed.
        expect((await once(sockets[2]!.client, TYPENAME)).kind).toBe('error');
        expect(sockets[2]!.closes).toEqual([]);
      } finally {
        await Promise.all(sockets.map(({ client }) => client.dispose()));
      }
    });

    it("over WebSocket, refused credentials count with HTTP's; past the budget a credential, even a valid one, closes it with 4429", async () => {
      const address = nextAddress();
      const customer = await proxied.token('customer', `rate-ws-failed-${run}`);
      const attempt = async (authorization?: string) => {
        const { client, closes } = connectFrom(proxied, address, authorization);
        try {
          return { ...(await once(client, TYPENAME)), reason: closes[0]?.reason };
        } finally {
          await client.dispose();
        }
      };
      expect((await ask(proxied, { token: 'not-a-jwt', forwardedFor: address })).status).toBe(401);
      expect(await attempt('Bearer not-a-jwt')).toMatchObject({ kind: 'closed', code: 4403 });
      const refused = await attempt('Bearer not-a-jwt');
      expect(refused).toMatchObject({ kind: 'closed', code: 4429 });
      expect(refused.reason).toMatch(/^Too many refused credentials from this address: try again in \d+ s/);
      expect(await attempt(`Bearer ${customer}`)).toMatchObject({ kind: 'closed', code: 4429 });
      expectRefused(await ask(proxied, { token: customer, forwardedFor: address }), 'rateFailedAuth');
      // Without a credential the address is still heard: it is under its own limit.
      expect((await attempt()).kind).toBe('next');
    });
  },
);

describe('rate limits are off by default', () => {
  it('lets an anonymous caller ask as often as it likes', async () => {
    const t = await startTestApp();
    try {
      const { sku: own } = await createProduct(t, await t.token('staff'));
      const statuses = await Promise.all(
        Array.from({ length: 40 }, () =>
          fetch(t.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: print(ProductAvailabilityDocument), variables: { sku: own } }),
          }).then((r) => r.status),
        ),
      );
      expect(statuses.every((s) => s === 200)).toBe(true);
    } finally {
      await t.stop();
    }
  });
});
