import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrderByKey } from '../../src/db/repos/orders.ts';
import { findStockByProductIds } from '../../src/db/repos/stock.ts';
import { createProduct } from '../../src/domain/catalog.ts';
import { placeOrder } from '../../src/domain/orders.ts';
import { receiveStock } from '../../src/domain/stock.ts';
import type { Actor } from '../../src/domain/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let t: TestDatabase;
const staff: Actor = { id: 'staff-1', role: 'staff' };
const alice: Actor = { id: 'alice', role: 'customer' };
const bob: Actor = { id: 'bob', role: 'customer' };

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

async function productWith(units: number): Promise<number> {
  return t.writer.run(async (tx) => {
    const product = await createProduct(tx, {
      sku: `TX-${Math.random().toString(36).slice(2, 10)}`,
      name: 'Shared',
      backorderPolicy: 'ALLOW',
      backorderLimit: null,
      lowStockThreshold: null,
      restockLeadTimeDays: null,
    });
    await receiveStock(tx, staff, { productId: product.id, quantity: units, inboundId: null });
    return product.id;
  });
}

const line = (productId: number, quantity: number) => ({
  idempotencyKey: `k-${productId}-${quantity}`,
  acceptBackorder: false,
  lines: [{ productId, quantity }],
});

describe('transactions are opened by the caller', () => {
  it('commits several operations together', async () => {
    const productId = await productWith(5);
    await t.writer.run(async (tx) => {
      await placeOrder(tx, alice, line(productId, 2));
      await placeOrder(tx, bob, line(productId, 3));
    });
    const [stock] = await findStockByProductIds(t.db, [productId]);
    expect(stock).toMatchObject({ onHand: 5, allocated: 5 });
  });

  it('rolls them all back when one fails, and tells no one', async () => {
    const productId = await productWith(4);
    let told = 0;
    const stop = t.writer.onCommit(() => told++);
    try {
      const batch = t.writer.run(async (tx) => {
        await placeOrder(tx, alice, line(productId, 3));
        await placeOrder(tx, bob, line(productId, 3));
      });
      await expect(batch).rejects.toThrow(/available/i);
    } finally {
      stop();
    }
    expect(told).toBe(0);
    expect(await findOrderByKey(t.db, 'alice', `k-${productId}-3`)).toBeUndefined();
    const [stock] = await findStockByProductIds(t.db, [productId]);
    expect(stock).toMatchObject({ onHand: 4, allocated: 0 });
  });
});
