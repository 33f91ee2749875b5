import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdjustWithinTotalsDocument,
  CappedPlaceOrderDocument,
  ProductQueueDocument,
  ReceiveWithinTotalsDocument,
  TotalsOfDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { localId, newCustomer } from '../helpers/engine.ts';
import { createProduct, uniqueKey } from '../helpers/fixtures.ts';
import { checkInvariants } from '../helpers/invariants.ts';

const MAX = 2_147_483_647;
let t: TestApp;
let staff: string;

beforeAll(async () => {
  // One customer drives a product to the limit of its totals: no per-customer default cap in the way.
  t = await startTestApp({ poolMax: 10, maxPerCustomerDefault: 0 });
  staff = await t.token('staff', 'staff-totals');
});
afterAll(() => t?.stop());

const db = () => t.app.writer.db;

async function totals(sku: string) {
  const data = await t.ok(TotalsOfDocument, { sku }, staff);
  return { ...data.product!.stock!, ...data.product!.availability };
}

async function writes(productId: number) {
  const { rows } = await sql<{ events: number; movements: number }>`
    SELECT (SELECT count(*)::int FROM domain_event WHERE ${productId} = ANY(product_ids)) AS events,
      (SELECT count(*)::int FROM stock_movement WHERE product_id = ${productId}) AS movements
  `.execute(db());
  return rows[0]!;
}

/** Puts `units` on hand the way a receipt would: a ledger row and the counter, together. */
async function seedOnHand(productId: number, units: number) {
  await sql`
    WITH m AS (INSERT INTO stock_movement (product_id, kind, quantity, reference, actor)
      VALUES (${productId}, 'RECEIPT', ${units}, 'seed', 'seed') RETURNING quantity)
    UPDATE stock SET on_hand = on_hand + (SELECT quantity FROM m) WHERE product_id = ${productId}
  `.execute(db());
}

/** A queue of `count` backorders of 100,000 units each, as checkouts would have left it. */
async function seedQueue(productId: number, count: number) {
  await sql`
    WITH o AS (
      INSERT INTO customer_order (customer_id, idempotency_key, request_hash)
      VALUES ('seed', ${`seed-${productId}`}, 'seed') RETURNING id
    ), l AS (
      INSERT INTO order_line (order_id, position, product_id, quantity, quantity_taken)
      SELECT o.id, g, ${productId}, 100000, 0 FROM o, generate_series(0, ${count - 1}) g
      RETURNING id, order_id
    )
    INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity)
    SELECT order_id, id, ${productId}, 'seed', 100000 FROM l ORDER BY id
  `.execute(db());
  await sql`
    UPDATE stock SET queue_length = queue_length + ${count},
      units_on_backorder = units_on_backorder + ${count * 100_000}::int
    WHERE product_id = ${productId}
  `.execute(db());
}

describe('totals stay within GraphQL Int', () => {
  it('receipts of 1,000,000 repeated through the API stop at the limit with a typed error', async () => {
    const { id, sku } = await createProduct(t, staff);
    const receipt = () =>
      t.ok(ReceiveWithinTotalsDocument, { input: { productId: id, quantity: 1_000_000 } }, staff);
    let accepted = 0;
    let refusal: Awaited<ReturnType<typeof receipt>>['receiveStock'] | undefined;
    // Several at a time: they queue on the product's lock; exactly as many fit as the limit allows.
    while (!refusal) {
      const batch = await Promise.all(Array.from({ length: 8 }, receipt));
      for (const r of batch) {
        if (r.receiveStock.__typename === 'ReceiveStockSuccess') accepted++;
        else refusal = r.receiveStock;
      }
    }
    expect(accepted).toBe(Math.floor(MAX / 1_000_000));
    expect(refusal).toMatchObject({
      __typename: 'TotalLimitError',
      productId: id,
      total: 'ON_HAND',
      limit: MAX,
      remaining: MAX - accepted * 1_000_000,
    });
    const before = await writes(localId(id));
    const again = await receipt();
    expect(again.receiveStock.__typename).toBe('TotalLimitError');
    expect(await writes(localId(id))).toEqual(before);
    expect((await totals(sku)).onHand).toBe(accepted * 1_000_000);
    expect(await checkInvariants(db(), [localId(id)])).toEqual([]);
  }, 120_000);

  it('adjustments are refused past the limit, and the last unit that fits is accepted', async () => {
    const { id, sku } = await createProduct(t, staff);
    await seedOnHand(localId(id), MAX - 2_500_000);
    const adjust = (delta: number) =>
      t.ok(AdjustWithinTotalsDocument, { input: { productId: id, delta, reason: 'count' } }, staff);
    expect((await adjust(1_000_000)).adjustStock.__typename).toBe('AdjustStockSuccess');
    expect((await adjust(1_000_000)).adjustStock.__typename).toBe('AdjustStockSuccess');
    const before = await writes(localId(id));
    expect((await adjust(1_000_000)).adjustStock).toMatchObject({
      __typename: 'TotalLimitError',
      total: 'ON_HAND',
      remaining: 500_000,
    });
    expect(await writes(localId(id))).toEqual(before);
    expect((await adjust(500_000)).adjustStock.__typename).toBe('AdjustStockSuccess');
    expect((await totals(sku)).onHand).toBe(MAX);
    expect((await adjust(1)).adjustStock).toMatchObject({ __typename: 'TotalLimitError', remaining: 0 });
    // Taking units away is always possible.
    expect((await adjust(-1_000_000)).adjustStock.__typename).toBe('AdjustStockSuccess');
    expect(await checkInvariants(db(), [localId(id)])).toEqual([]);
  });

  it('backorders of 100,000 x 50 lines are refused once units on backorder would pass the limit', async () => {
    const { id, sku } = await createProduct(t, staff);
    await seedQueue(localId(id), 21_000); // 2.1 billion units waiting
    const customer = await newCustomer(t, 'totals');
    const lines = Array.from({ length: 50 }, () => ({ productId: id, quantity: 100_000 }));
    const place = () =>
      t.ok(
        CappedPlaceOrderDocument,
        { input: { idempotencyKey: uniqueKey(), acceptBackorder: true, lines } },
        customer.token,
      );
    let accepted = 0;
    let refused: Awaited<ReturnType<typeof place>>['placeOrder'] | undefined;
    while (!refused) {
      const r = (await place()).placeOrder;
      if (r.__typename === 'PlaceOrderSuccess') accepted++;
      else refused = r;
    }
    const waiting = 2_100_000_000;
    expect(accepted).toBe(Math.floor((MAX - waiting) / 5_000_000));
    expect(refused).toMatchObject({
      __typename: 'TotalLimitError',
      productId: id,
      total: 'UNITS_ON_BACKORDER',
      remaining: MAX - waiting - accepted * 5_000_000,
    });
    const now = await totals(sku);
    expect(now.unitsOnBackorder).toBe(waiting + accepted * 5_000_000);
    expect(now.queueLength).toBe(21_000 + accepted * 50);
    // The queue still reads: the last backorder's units ahead are within Int too.
    const queue = await t.ok(ProductQueueDocument, { sku, first: 1 }, staff);
    expect(queue.product).not.toBeNull();
  }, 120_000);
});
