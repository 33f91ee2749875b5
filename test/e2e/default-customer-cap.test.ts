import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomerCapOfDocument, SetCustomerCapDocument, TotalsOfDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { localId, newCustomer } from '../helpers/engine.ts';
import { cappedOrder, createProduct, receive, uniqueKey } from '../helpers/fixtures.ts';
import { checkInvariants } from '../helpers/invariants.ts';

/**
 * The service-wide per-customer cap (MAX_PER_CUSTOMER_DEFAULT, 10,000 unless set) on products without a
 * `maxPerCustomer` of their own. The finding it answers: with no cap of its own on a product, one customer
 * placed 429 orders of 2,145,000,000 units in all, and every other customer then got TotalLimitError.
 */

const DEFAULT = 10_000;

/** The service as it starts with its defaults. */
let t: TestApp;
/** The same service with MAX_PER_CUSTOMER_DEFAULT=0. */
let off: TestApp;
let staff: string;
let staffOff: string;

beforeAll(async () => {
  [t, off] = await Promise.all([startTestApp(), startTestApp({ maxPerCustomerDefault: 0 })]);
  staff = await t.token('staff', 'staff-default-cap');
  staffOff = await off.token('staff', 'staff-default-cap');
});
afterAll(() => Promise.all([t?.stop(), off?.stop()]));

const order = cappedOrder;

const line = (productId: string, quantity: number) => [{ productId, quantity }];

/**
 * Every row a checkout could write, and the product's counters: equal before and after a refusal. Read once
 * the work after earlier commits is done (the relay adds to customers' feeds, and logs that it did).
 */
async function footprint(app: TestApp, productId: string) {
  await app.app.outbox.poke();
  const { rows } = await sql<Record<string, number>>`
    SELECT (SELECT count(*)::int FROM customer_order) AS orders,
      (SELECT count(*)::int FROM order_line) AS lines,
      (SELECT count(*)::int FROM backorder) AS backorders,
      (SELECT count(*)::int FROM stock_movement) AS movements,
      (SELECT count(*)::int FROM domain_event) AS events,
      (SELECT allocated FROM stock WHERE product_id = ${localId(productId)}) AS allocated,
      (SELECT units_on_backorder FROM stock WHERE product_id = ${localId(productId)}) AS "unitsOnBackorder",
      (SELECT queue_length FROM stock WHERE product_id = ${localId(productId)}) AS "queueLength"
  `.execute(app.app.writer.db);
  return rows[0]!;
}

async function capOf(app: TestApp, staffToken: string, sku: string) {
  return (await app.ok(CustomerCapOfDocument, { sku }, staffToken)).product!;
}

describe('MAX_PER_CUSTOMER_DEFAULT (10,000 unless set)', () => {
  it('caps one customer at 10,000 units of a product without a cap of its own; others still order', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4_000);
    expect(await capOf(t, staff, sku)).toMatchObject({ maxPerCustomer: null, customerLimit: DEFAULT });
    const greedy = await newCustomer(t, 'greedy');

    // The finding: 50 lines of 100,000 at once. Refused whole, nothing written.
    const before = await footprint(t, id);
    const fill = Array.from({ length: 50 }, () => ({ productId: id, quantity: 100_000 }));
    expect(await order(t, greedy.token, fill)).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: id,
      limit: DEFAULT,
      remaining: DEFAULT,
    });
    expect(await footprint(t, id)).toEqual(before);

    // Up to the cap is fine, from stock and on backorder alike; one unit past it is not.
    expect((await order(t, greedy.token, line(id, 6_000))).__typename).toBe('PlaceOrderSuccess');
    const held = await footprint(t, id);
    expect(await order(t, greedy.token, line(id, 4_001))).toMatchObject({
      __typename: 'CustomerLimitError',
      limit: DEFAULT,
      remaining: 4_000,
    });
    expect(await footprint(t, id)).toEqual(held);
    expect((await order(t, greedy.token, line(id, 4_000))).__typename).toBe('PlaceOrderSuccess');
    expect(await order(t, greedy.token, line(id, 1))).toMatchObject({ limit: DEFAULT, remaining: 0 });

    // Everyone else has a cap of their own: the product is not filled by one customer.
    const other = await newCustomer(t, 'other');
    expect((await order(t, other.token, line(id, DEFAULT))).__typename).toBe('PlaceOrderSuccess');
    const totals = (await t.ok(TotalsOfDocument, { sku }, staff)).product!;
    expect(totals.stock).toMatchObject({ allocated: 4_000, available: 0 });
    expect(totals.availability.unitsOnBackorder).toBe(2 * DEFAULT - 4_000);
    expect(await checkInvariants(t.app.writer.db, [localId(id)])).toEqual([]);
  });

  it("gives way to a product's own cap, higher or lower; clearing it brings the default back", async () => {
    const higher = await createProduct(t, staff, { maxPerCustomer: 50_000 });
    const lower = await createProduct(t, staff, { maxPerCustomer: 5 });
    expect(await capOf(t, staff, higher.sku)).toMatchObject({
      maxPerCustomer: 50_000,
      customerLimit: 50_000,
    });
    expect(await capOf(t, staff, lower.sku)).toMatchObject({ maxPerCustomer: 5, customerLimit: 5 });
    const c = await newCustomer(t, 'own-cap');

    expect((await order(t, c.token, line(higher.id, 30_000))).__typename).toBe('PlaceOrderSuccess');
    expect(await order(t, c.token, line(higher.id, 20_001))).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: higher.id,
      limit: 50_000,
      remaining: 20_000,
    });
    expect(await order(t, c.token, line(lower.id, 6))).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: lower.id,
      limit: 5,
      remaining: 5,
    });
    expect((await order(t, c.token, line(lower.id, 5))).__typename).toBe('PlaceOrderSuccess');

    // Cleared, the product falls back to the default, under which the 30,000 already held leave nothing.
    const cleared = await t.ok(
      SetCustomerCapDocument,
      { input: { id: higher.id, maxPerCustomer: null } },
      staff,
    );
    expect(cleared.updateProduct).toMatchObject({ product: { maxPerCustomer: null } });
    expect(await capOf(t, staff, higher.sku)).toMatchObject({ maxPerCustomer: null, customerLimit: DEFAULT });
    expect(await order(t, c.token, line(higher.id, 1))).toMatchObject({ limit: DEFAULT, remaining: 0 });
  });

  it('is checked before stock, policy and backorder limit; an idempotent repeat returns its order first', async () => {
    const c = await newCustomer(t, 'first');
    // No stock and no backorders: stock and policy would refuse, the cap speaks first.
    const denied = await createProduct(t, staff, { backorderPolicy: 'DENY' });
    expect(await order(t, c.token, line(denied.id, DEFAULT + 1), { acceptBackorder: false })).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: denied.id,
      remaining: DEFAULT,
    });
    expect(await order(t, c.token, line(denied.id, DEFAULT + 1))).toMatchObject({
      __typename: 'CustomerLimitError',
    });
    const limited = await createProduct(t, staff, { backorderLimit: 5 });
    expect(await order(t, c.token, line(limited.id, DEFAULT + 1))).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: limited.id,
    });

    // What the customer holds counts on that path too: 9,000 waiting, then 1,001 more without a backorder.
    const waiting = await createProduct(t, staff);
    expect((await order(t, c.token, line(waiting.id, 9_000))).__typename).toBe('PlaceOrderSuccess');
    expect(await order(t, c.token, line(waiting.id, 1_001), { acceptBackorder: false })).toMatchObject({
      __typename: 'CustomerLimitError',
      remaining: 1_000,
    });
    expect((await order(t, c.token, line(waiting.id, 1_000), { acceptBackorder: false })).__typename).toBe(
      'InsufficientStockError',
    );

    // The first capped product over its cap, in input order.
    const mixed = await order(t, c.token, [
      { productId: limited.id, quantity: 1 },
      { productId: waiting.id, quantity: 1_001 },
      { productId: denied.id, quantity: DEFAULT + 1 },
    ]);
    expect(mixed).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: waiting.id,
      remaining: 1_000,
    });

    // A repeat of an order that reached the cap is answered with that order.
    const product = await createProduct(t, staff);
    const key = uniqueKey();
    const first = await order(t, c.token, line(product.id, DEFAULT), { idempotencyKey: key });
    if (first.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(first));
    expect(await order(t, c.token, line(product.id, DEFAULT), { idempotencyKey: key })).toMatchObject({
      __typename: 'PlaceOrderSuccess',
      order: { id: first.order.id },
    });
    expect(await order(t, c.token, line(product.id, 1))).toMatchObject({ remaining: 0 });
  });

  it("never lets one customer's parallel orders pass it together", async () => {
    const { id } = await createProduct(t, staff);
    await receive(t, staff, id, 3_500);
    const c = await newCustomer(t, 'racer');
    const results = await Promise.all(Array.from({ length: 14 }, () => order(t, c.token, line(id, 1_000))));
    const placed = results.filter((r) => r.__typename === 'PlaceOrderSuccess').length;
    const refused = results.filter((r) => r.__typename === 'CustomerLimitError');
    expect({ placed, refused: refused.length }).toEqual({ placed: 10, refused: 4 });
    for (const r of refused) expect(r).toMatchObject({ limit: DEFAULT, remaining: 0 });
    expect(await checkInvariants(t.app.writer.db, [localId(id)])).toEqual([]);
  });
});

describe('MAX_PER_CUSTOMER_DEFAULT=0', () => {
  it("turns the default off: no cap without the product's own", async () => {
    const { id, sku } = await createProduct(off, staffOff);
    expect(await capOf(off, staffOff, sku)).toMatchObject({ maxPerCustomer: null, customerLimit: null });
    const c = await newCustomer(off, 'unlimited');
    const lines = Array.from({ length: 50 }, () => ({ productId: id, quantity: 100_000 }));
    expect((await order(off, c.token, lines)).__typename).toBe('PlaceOrderSuccess');
    expect((await order(off, c.token, line(id, 100_000))).__typename).toBe('PlaceOrderSuccess');

    const own = await createProduct(off, staffOff, { maxPerCustomer: 5 });
    expect(await capOf(off, staffOff, own.sku)).toMatchObject({ customerLimit: 5 });
    expect(await order(off, c.token, line(own.id, 6))).toMatchObject({
      __typename: 'CustomerLimitError',
      limit: 5,
      remaining: 5,
    });
  });
});

describe('what the default costs', () => {
  /** Statements one order costs: the least of three, each once the work after earlier writes is done. */
  async function statementsPerOrder(app: TestApp, staffToken: string): Promise<number> {
    const { id } = await createProduct(app, staffToken);
    await receive(app, staffToken, id, 100);
    const c = await newCustomer(app, 'cost');
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      await app.app.outbox.poke();
      await app.app.live.read();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = app.app.queries.count;
      expect((await order(app, c.token, line(id, 1))).__typename).toBe('PlaceOrderSuccess');
      counts.push(app.app.queries.count - before);
    }
    return Math.min(...counts);
  }

  it('adds no statement to an order: what the customer holds is counted by the order’s own write', async () => {
    expect(await statementsPerOrder(t, staff)).toBe(await statementsPerOrder(off, staffOff));
  });
});
