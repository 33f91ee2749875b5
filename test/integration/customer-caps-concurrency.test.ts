import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unitsHeldByCustomer } from '../../src/db/repos/holdings.ts';
import { cancelBackorder } from '../../src/domain/backorders.ts';
import { createProduct } from '../../src/domain/catalog.ts';
import { CustomerLimitError } from '../../src/domain/errors.ts';
import { placeOrder } from '../../src/domain/orders.ts';
import { receiveStock } from '../../src/domain/stock.ts';
import type { Actor } from '../../src/domain/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { checkInvariants } from '../helpers/invariants.ts';

const staff: Actor = { id: 'staff-1', role: 'staff' };
let t: TestDatabase;
let skus = 0;
let keys = 0;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 20 });
});
afterAll(() => t?.drop());

async function product(cap: number, onHand: number): Promise<number> {
  const p = await t.writer.run((tx) =>
    createProduct(tx, {
      sku: `CAP-${++skus}`,
      name: `Capped ${skus}`,
      backorderPolicy: 'ALLOW',
      backorderLimit: null,
      lowStockThreshold: null,
      restockLeadTimeDays: null,
      maxPerCustomer: cap,
    }),
  );
  if (onHand > 0) {
    await t.writer.run((tx) =>
      receiveStock(tx, staff, { productId: p.id, quantity: onHand, inboundId: null }),
    );
  }
  return p.id;
}

/** Every order at once, each in its own transaction on its own connection. */
async function race(customer: Actor, orders: { productId: number; quantity: number }[][]) {
  const settled = await Promise.allSettled(
    orders.map((lines) =>
      t.writer.run((tx) =>
        placeOrder(tx, customer, { idempotencyKey: `k-${++keys}`, acceptBackorder: true, lines }),
      ),
    ),
  );
  const refused = settled.filter((s) => s.status === 'rejected');
  for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(CustomerLimitError);
  return { placed: settled.length - refused.length, refused: refused.length };
}

async function held(customer: Actor, productId: number): Promise<number> {
  return (await unitsHeldByCustomer(t.db, customer.id, [productId])).get(productId) ?? 0;
}

describe("one customer's parallel orders never pass the cap", () => {
  it('admits exactly as many single units as the cap, from stock', async () => {
    const id = await product(10, 1000);
    const customer: Actor = { id: 'racer-1', role: 'customer' };
    const result = await race(
      customer,
      Array.from({ length: 30 }, () => [{ productId: id, quantity: 1 }]),
    );
    expect(result).toEqual({ placed: 10, refused: 20 });
    expect(await held(customer, id)).toBe(10);
    expect(await checkInvariants(t.db, [id])).toEqual([]);
  });

  it('holds for backorders and for orders spanning several capped products', async () => {
    const a = await product(7, 0);
    const b = await product(5, 3);
    const customer: Actor = { id: 'racer-2', role: 'customer' };
    const orders = Array.from({ length: 24 }, (_, i) =>
      i % 2 === 0
        ? [
            { productId: b, quantity: 1 },
            { productId: a, quantity: 2 },
          ]
        : [{ productId: a, quantity: 1 + (i % 3) }],
    );
    const result = await race(customer, orders);
    expect(result.placed).toBeGreaterThan(0);
    expect(await held(customer, a)).toBeLessThanOrEqual(7);
    expect(await held(customer, b)).toBeLessThanOrEqual(5);
    // What was placed is exactly what is held.
    const { rows } = await sql<{ productId: number; units: number }>`
      SELECT l.product_id AS "productId", sum(l.quantity)::int AS units
      FROM order_line l JOIN customer_order o ON o.id = l.order_id
      WHERE o.customer_id = ${customer.id} GROUP BY l.product_id
    `.execute(t.db);
    const placedUnits = new Map(rows.map((r) => [Number(r.productId), r.units]));
    expect(placedUnits.get(a) ?? 0).toBe(await held(customer, a));
    expect(placedUnits.get(b) ?? 0).toBe(await held(customer, b));
    expect(await checkInvariants(t.db, [a, b])).toEqual([]);
  });

  it('frees cancelled units for orders racing with the cancellation', async () => {
    const id = await product(4, 0);
    const customer: Actor = { id: 'racer-3', role: 'customer' };
    const first = await t.writer.run((tx) =>
      placeOrder(tx, customer, {
        idempotencyKey: `k-${++keys}`,
        acceptBackorder: true,
        lines: [{ productId: id, quantity: 4 }],
      }),
    );
    const backorder = await t.db
      .selectFrom('backorder')
      .selectAll()
      .where('order_id', '=', first.orderId)
      .executeTakeFirstOrThrow();
    const cancelling = t.writer.run(async (tx) => {
      const record = {
        id: backorder.id,
        orderId: backorder.order_id,
        orderLineId: backorder.order_line_id,
        productId: backorder.product_id,
        customerId: backorder.customer_id,
        quantity: backorder.quantity,
        quantityAllocated: backorder.quantity_allocated,
        quantityShipped: backorder.quantity_shipped,
        status: backorder.status,
        createdAt: backorder.created_at,
      };
      return cancelBackorder(tx, customer, record as Parameters<typeof cancelBackorder>[2]);
    });
    const racing = race(
      customer,
      Array.from({ length: 10 }, () => [{ productId: id, quantity: 1 }]),
    );
    await cancelling;
    const result = await racing;
    // Whatever the interleaving, never more than the cap is held, and all 4 freed units can be had.
    expect(await held(customer, id)).toBeLessThanOrEqual(4);
    expect(result.placed).toBeLessThanOrEqual(4);
    // The cancellation committed: exactly what is left under the cap can still be ordered, and no more.
    const left = 4 - (await held(customer, id));
    expect(await race(customer, [[{ productId: id, quantity: left + 1 }]])).toEqual({
      placed: 0,
      refused: 1,
    });
    if (left > 0) {
      expect(await race(customer, [[{ productId: id, quantity: left }]])).toEqual({ placed: 1, refused: 0 });
    }
    expect(await held(customer, id)).toBe(4);
    expect(await checkInvariants(t.db, [id])).toEqual([]);
  });
});
