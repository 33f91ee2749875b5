import { print } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CappedPlaceOrderDocument, MyOrdersDocument } from '../generated/graphql.ts';
import { abuseLimits } from '../helpers/abuse.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { localId } from '../helpers/engine.ts';
import { createProduct, receive, uniqueKey } from '../helpers/fixtures.ts';
import { connect, once } from '../helpers/live.ts';

// A small cap: a checkout selecting its lines (x50) already costs more, so it runs alone; the fast lane
// takes what costs at most 20.
const SETTINGS = { costInFlight: 50, costPerCaller: 50, fastLaneCost: 20, maxWaitMs: 300 };

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({ abuse: abuseLimits({ admission: { ...SETTINGS, enabled: true } }) });
  staff = await t.token('staff', 'staff-admission');
});
afterAll(() => t?.stop());

async function post(app: TestApp, query: string, variables: Record<string, unknown>, token?: string) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { data?: unknown; errors?: { extensions?: Record<string, unknown> }[] },
  };
}

/** Holds the product's stock row so that a checkout of it stays in flight until released. */
async function holdStock(app: TestApp, productId: string) {
  const client = new pg.Client({ connectionString: app.database.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM stock WHERE product_id = $1 FOR UPDATE', [localId(productId)]);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}

async function waitForInFlight(app: TestApp) {
  const c = new pg.Client({ connectionString: app.database.url });
  await c.connect();
  try {
    for (let i = 0; i < 200; i++) {
      const { rows } = await c.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      );
      if (rows[0].n > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await c.end();
  }
  throw new Error('the checkout never waited for the lock');
}

const checkout = (productId: string) => ({
  query: print(CappedPlaceOrderDocument),
  variables: {
    input: { idempotencyKey: uniqueKey(), acceptBackorder: true, lines: [{ productId, quantity: 1 }] },
  },
});

describe('admission control', () => {
  it('refuses expensive work that waits too long with 503 OVERLOADED, writes nothing, and keeps a fast lane', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 10);
    const first = await t.token('customer', 'adm-1');
    const second = await t.token('customer', 'adm-2');
    const release = await holdStock(t, id);
    let inFlight: Promise<Awaited<ReturnType<typeof post>>> | undefined;
    try {
      const c1 = checkout(id);
      inFlight = post(t, c1.query, c1.variables, first);
      await waitForInFlight(t);

      // Expensive: waits for its turn, then is refused.
      const started = Date.now();
      const refused = await post(t, print(MyOrdersDocument), { first: 100 }, second);
      expect(Date.now() - started).toBeGreaterThanOrEqual(SETTINGS.maxWaitMs - 20);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('1');
      expect(refused.body.data).toBeUndefined();
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: 'OVERLOADED',
        limit: 'costInFlight',
      });

      // A refused checkout writes nothing.
      const c2 = checkout(id);
      const refusedOrder = await post(t, c2.query, c2.variables, second);
      expect(refusedOrder.status).toBe(503);
      const orders = await t.app.writer.db
        .selectFrom('customer_order')
        .select('id')
        .where('customer_id', '=', 'adm-2')
        .execute();
      expect(orders).toEqual([]);

      // Cheap: the fast lane, at once.
      const cheapStarted = Date.now();
      const cheap = await post(t, 'query($sku: String!) { product(sku: $sku) { id } }', { sku });
      expect(cheap.status).toBe(200);
      expect(Date.now() - cheapStarted).toBeLessThan(SETTINGS.maxWaitMs);

      // Over WebSocket: an error for that operation.
      const client = connect(t.port, second);
      try {
        const outcome = await once(client, { query: print(MyOrdersDocument), variables: { first: 100 } });
        expect(outcome.kind).toBe('error');
        expect(outcome.errors?.[0]?.extensions).toMatchObject({ code: 'OVERLOADED', limit: 'costInFlight' });
        expect((await once(client, { query: '{ __typename }' })).kind).toBe('next');
      } finally {
        await client.dispose();
      }
    } finally {
      await release();
    }
    const placed = await inFlight!;
    expect(placed.status).toBe(200);
    // The work is done: the expensive read runs now.
    const later = await post(t, print(MyOrdersDocument), { first: 100 }, second);
    expect(later.status).toBe(200);
    expect(later.body.errors).toBeUndefined();
  });

  it('turned off, lets expensive work run side by side', async () => {
    const off = await startTestApp({ abuse: abuseLimits({ admission: { ...SETTINGS, enabled: false } }) });
    try {
      const offStaff = await off.token('staff');
      const { id } = await createProduct(off, offStaff);
      const release = await holdStock(off, id);
      const c1 = checkout(id);
      const inFlight = post(off, c1.query, c1.variables, await off.token('customer', 'off-1'));
      await waitForInFlight(off);
      const read = await post(
        off,
        print(MyOrdersDocument),
        { first: 100 },
        await off.token('customer', 'off-2'),
      );
      expect(read.status).toBe(200);
      await release();
      expect((await inFlight).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
