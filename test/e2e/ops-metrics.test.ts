import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProductAvailabilityDocument, WatchAvailabilityDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, order, placed, receive } from '../helpers/fixtures.ts';
import { connect, subscribe } from '../helpers/live.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({ poolMax: 7 });
  staff = await t.token('staff');
});
afterAll(() => t?.stop());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

async function scrape(base = `http://127.0.0.1:${t.port}`): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const samples: Sample[] = [];
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function until(test: (s: Sample[]) => boolean, timeoutMs = 5000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (test(samples)) return samples;
    if (Date.now() > deadline) throw new Error('metrics never got there');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('/metrics', () => {
  it('lists every metric the README names', async () => {
    const text = await (await fetch(`http://127.0.0.1:${t.port}/metrics`)).text();
    const names = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const name of [
      'backorder_requests_total',
      'backorder_request_duration_seconds',
      'backorder_refusals_total',
      'backorder_subscriptions_active',
      'backorder_websockets_open',
      'backorder_sse_streams_open',
      'backorder_change_feed_lag_seconds',
      'backorder_live_flushes_total',
      'backorder_live_snapshots_total',
      'backorder_db_pool_connections',
      'backorder_db_pool_waiting',
      'nodejs_eventloop_lag_seconds',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(names, name).toContain(name);
    }
  });

  it('counts operations by known name and result; unknown names are other', async () => {
    const { id } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const before = await scrape();
    const customer = await t.token('customer', 'm-1');
    placed(await order(t, customer, [{ productId: id, quantity: 1 }]));
    for (let i = 0; i < 3; i++) await post({ query: `query Made_Up_${i} { __typename }` });
    const after = await scrape();
    const ok = { operation: 'PlaceOrder', result: 'ok', transport: 'http' };
    expect(value(after, 'backorder_requests_total', ok) - value(before, 'backorder_requests_total', ok)).toBe(
      1,
    );
    expect(
      value(after, 'backorder_request_duration_seconds_count', ok) -
        value(before, 'backorder_request_duration_seconds_count', ok),
    ).toBe(1);
    const other = { operation: 'other', result: 'ok' };
    expect(
      value(after, 'backorder_requests_total', other) - value(before, 'backorder_requests_total', other),
    ).toBe(3);
    expect(after.some((s) => s.labels.operation?.startsWith('Made_Up'))).toBe(false);
  });

  it('counts refusals by limit, from GraphQL errors and from HTTP statuses alike', async () => {
    const before = await scrape();
    // Thirteen levels deep, every field real: only the depth is wrong.
    let selection = 'inbound { id }';
    for (let i = 0; i < 4; i++) selection = `inbound { product { ${selection} } }`;
    const deep = `{ products(first: 1) { edges { node { ${selection} } } } }`;
    await post({ query: deep });
    await post({ query: '{ __typename }' }, { authorization: 'Bearer nonsense' });
    await fetch(t.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' });
    await post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` }));
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      value(after, 'backorder_refusals_total', labels) - value(before, 'backorder_refusals_total', labels);
    expect(delta({ limit: 'depth', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(delta({ limit: 'unauthenticated', code: 'UNAUTHENTICATED' })).toBe(1);
    expect(delta({ limit: 'content_type', code: 'HTTP_415' })).toBe(1);
    expect(delta({ limit: 'body_size', code: 'HTTP_413' })).toBe(1);
    const refused = { operation: 'other', result: 'refused' };
    expect(value(after, 'backorder_requests_total', refused)).toBeGreaterThan(
      value(before, 'backorder_requests_total', refused),
    );
  });

  it('shows open subscriptions, sockets and SSE streams, and the live pipeline at work', async () => {
    const { id } = await createProduct(t, staff);
    const before = await scrape();
    const client = connect(t.port);
    const sub = subscribe(client, WatchAvailabilityDocument, { productId: id });
    await sub.until(() => true);
    const controller = new AbortController();
    const sse = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(WatchAvailabilityDocument), variables: { productId: id } }),
      signal: controller.signal,
    });
    const reader = sse.body!.getReader();
    await reader.read();
    let open = await scrape();
    expect(value(open, 'backorder_websockets_open')).toBe(1);
    expect(value(open, 'backorder_subscriptions_active', { transport: 'ws' })).toBe(1);
    expect(value(open, 'backorder_subscriptions_active', { transport: 'sse' })).toBe(1);
    expect(value(open, 'backorder_sse_streams_open')).toBe(1);

    // A committed change reaches the watchers: the feed's lag is observed, a merge window flushed.
    await receive(t, staff, id, 4);
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 4);
    open = await until(
      (s) => value(s, 'backorder_live_flushes_total') > value(before, 'backorder_live_flushes_total'),
    );
    expect(value(open, 'backorder_change_feed_lag_seconds_count')).toBeGreaterThan(
      value(before, 'backorder_change_feed_lag_seconds_count'),
    );
    const lag =
      value(open, 'backorder_change_feed_lag_seconds_sum') /
      value(open, 'backorder_change_feed_lag_seconds_count');
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(5);
    expect(value(open, 'backorder_live_snapshots_total')).toBeGreaterThan(0);

    sub.stop();
    await client.dispose();
    controller.abort();
    const closed = await until(
      (s) =>
        value(s, 'backorder_websockets_open') === 0 &&
        value(s, 'backorder_subscriptions_active') === 0 &&
        value(s, 'backorder_sse_streams_open') === 0,
    );
    const ws = { operation: 'WatchAvailability', transport: 'ws' };
    expect(value(closed, 'backorder_requests_total', ws)).toBe(1);
  });

  it('shows the pool: its maximum, connections in use and idle, and waits', async () => {
    const samples = await scrape();
    expect(value(samples, 'backorder_db_pool_connections', { state: 'max' })).toBe(7);
    expect(value(samples, 'backorder_db_pool_connections', { state: 'idle' })).toBeGreaterThan(0);
    expect(
      samples.some((s) => s.name === 'backorder_db_pool_connections' && s.labels.state === 'in_use'),
    ).toBe(true);
    expect(value(samples, 'backorder_db_pool_waiting')).toBe(0);
    expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });
});

describe("availability's inputs held in memory", () => {
  it('counts reads answered from memory and from the database, and the products held', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 3);
    const before = await scrape();
    await t.ok(ProductAvailabilityDocument, { sku });
    await t.ok(ProductAvailabilityDocument, { sku });
    const after = await scrape();
    const grew = (name: string) => value(after, name) - value(before, name);
    // The first read fetched the product, its stock and its open inbound; the second found all three held.
    expect(grew('backorder_read_cache_misses_total')).toBeGreaterThanOrEqual(3);
    expect(grew('backorder_read_cache_hits_total')).toBeGreaterThanOrEqual(3);
    expect(value(after, 'backorder_read_cache_products')).toBeGreaterThanOrEqual(1);
  });
});

describe('where metrics are served', () => {
  it('not at all in production unless asked', async () => {
    const prod = await startTestApp({ production: true });
    try {
      expect((await fetch(`http://127.0.0.1:${prod.port}/metrics`)).status).not.toBe(200);
      expect((await fetch(`http://127.0.0.1:${prod.port}/ready`)).status).toBe(200);
    } finally {
      await prod.stop();
    }
  });

  it('on a port of their own when one is set, and then not on the API port', async () => {
    const own = await startTestApp({ production: true, ops: { metrics: true, metricsPort: 0 } });
    try {
      const port = own.app.ops.metricsPort!;
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(own.port);
      expect(
        value(await scrape(`http://127.0.0.1:${port}`), 'backorder_db_pool_connections', { state: 'max' }),
      ).toBe(10);
      expect((await fetch(`http://127.0.0.1:${own.port}/metrics`)).status).not.toBe(200);
    } finally {
      await own.stop();
    }
  });
});
