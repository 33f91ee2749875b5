import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProductAvailabilityDocument, WatchAvailabilityDocument } from '../generated/graphql.ts';
import { abuseLimits, redisForTests, TEST_REDIS_URL } from '../helpers/abuse.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, receive } from '../helpers/fixtures.ts';
import { connect, once, subscribe } from '../helpers/live.ts';

// With REDIS_URL set (as in CI), the limits count in Redis; without it, in memory. The same tests run both.
const useRedis = Boolean(process.env.REDIS_URL);
const runnable = useRedis ? await redisForTests() : true;
const store = useRedis ? 'Redis' : 'memory';
const PER_WINDOW = 3;

let direct: TestApp; // no trusted proxy
let proxied: TestApp; // behind one trusted proxy
let staff: string;
let sku: string;
let run = 0;

const limits = (trustProxyHops: number) =>
  abuseLimits({
    rate: {
      customer: PER_WINDOW,
      anonymous: PER_WINDOW,
      windowSeconds: 60,
      trustProxyHops,
      redisUrl: useRedis ? TEST_REDIS_URL : undefined,
      // Counters in a shared Redis outlive a run: each run counts under its own keys.
      keyPrefix: `test-${process.pid}-${Date.now()}-${trustProxyHops}`,
    },
  });

beforeAll(async () => {
  if (!runnable) return;
  direct = await startTestApp({ abuse: limits(0) });
  proxied = await startTestApp({ abuse: limits(1) });
  staff = await direct.token('staff', 'staff-rate');
  sku = (await createProduct(direct, staff)).sku;
  await createProduct(proxied, await proxied.token('staff'), { sku });
});
afterAll(async () => {
  await direct?.stop();
  await proxied?.stop();
});

async function ask(app: TestApp, options: { token?: string; forwardedFor?: string } = {}) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {}),
    },
    body: JSON.stringify({ query: print(ProductAvailabilityDocument), variables: { sku } }),
  });
  const body = (await res.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

const nextAddress = () => `198.51.100.${++run}`;

describe.skipIf(!runnable)(`rate limits, counted in ${store}`, () => {
  it('refuses an anonymous address past its limit: HTTP 429, Retry-After, RATE_LIMITED', async () => {
    const address = nextAddress();
    for (let i = 0; i < PER_WINDOW; i++)
      expect((await ask(proxied, { forwardedFor: address })).status).toBe(200);
    const refused = await ask(proxied, { forwardedFor: address });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.data).toBeUndefined();
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'rateAnonymous',
    });
    // Another address is not affected.
    expect((await ask(proxied, { forwardedFor: nextAddress() })).status).toBe(200);
  });

  it('counts each customer on its own, whatever address it uses; staff are not limited', async () => {
    const [a, b] = [
      await direct.token('customer', `rate-a-${run}`),
      await direct.token('customer', `rate-b-${run}`),
    ];
    for (let i = 0; i < PER_WINDOW; i++) expect((await ask(direct, { token: a })).status).toBe(200);
    const refused = await ask(direct, { token: a });
    expect(refused.status).toBe(429);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 'rateCustomer',
    });
    expect((await ask(direct, { token: b })).status).toBe(200);
    for (let i = 0; i < PER_WINDOW * 3; i++) expect((await ask(direct, { token: staff })).status).toBe(200);
  });

  it('ignores X-Forwarded-For unless a proxy is trusted', async () => {
    // Without a trusted proxy every anonymous request here comes from 127.0.0.1, forged headers or not.
    let status = 200;
    for (let i = 0; i <= PER_WINDOW && status === 200; i++) {
      status = (await ask(direct, { forwardedFor: nextAddress() })).status;
    }
    expect(status).toBe(429);
  });

  it('believes only the entry the trusted proxy wrote, not what the client put before it', async () => {
    const real = nextAddress();
    for (let i = 0; i < PER_WINDOW; i++) {
      expect((await ask(proxied, { forwardedFor: `10.9.9.${i}, ${real}` })).status).toBe(200);
    }
    expect((await ask(proxied, { forwardedFor: `10.9.9.99, ${real}` })).status).toBe(429);
  });

  it('groups IPv6 addresses by /64', async () => {
    const net = `2001:db8:${++run}:1`;
    for (let i = 0; i < PER_WINDOW; i++) {
      expect((await ask(proxied, { forwardedFor: `${net}::${i + 1}` })).status).toBe(200);
    }
    expect((await ask(proxied, { forwardedFor: `${net}:ffff:ffff:ffff:ffff` })).status).toBe(429);
    expect((await ask(proxied, { forwardedFor: `2001:db8:${run}:2::1` })).status).toBe(200);
  });

  it('over WebSocket, an operation past the limit gets an error message; the socket and its subscription go on', async () => {
    const customer = await direct.token('customer', `rate-ws-${run}`);
    const { id } = await createProduct(direct, staff);
    const client = connect(direct.port, customer);
    try {
      const watch = subscribe(client, WatchAvailabilityDocument, { productId: id });
      await watch.until(() => true);
      for (let i = 1; i < PER_WINDOW; i++) {
        expect((await once(client, { query: '{ __typename }' })).kind).toBe('next');
      }
      const refused = await once(client, { query: '{ __typename }' });
      expect(refused.kind).toBe('error');
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit: 'rateCustomer' });
      await receive(direct, staff, id, 7);
      await watch.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 7);
    } finally {
      await client.dispose();
    }
  });

  it('over Server-Sent Events, a subscription past the limit gets an error and no events', async () => {
    const address = nextAddress();
    for (let i = 0; i < PER_WINDOW; i++) await ask(proxied, { forwardedFor: address });
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
    expect(text).toContain('RATE_LIMITED');
    expect(text).toContain('rateAnonymous');
    expect(text).not.toContain('"availability"');
  });
});

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
