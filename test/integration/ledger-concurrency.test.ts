import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStockByProductIds, ledgerTotals } from '../../src/db/repos/stock.ts';
import { createProduct } from '../../src/domain/catalog.ts';
import { StockBelowAllocatedError } from '../../src/domain/errors.ts';
import { adjustStock, receiveStock } from '../../src/domain/stock.ts';
import type { Actor } from '../../src/domain/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const staff: Actor = { id: 'staff-1', role: 'staff' };
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 16 });
});
afterAll(() => t?.drop());

describe('stock counters under parallel writers', () => {
  it('many parallel receipts and adjustments on one product leave the counters equal to the ledger', async () => {
    const product = await t.writer.run((tx) =>
      createProduct(tx, {
        sku: 'HOT',
        name: 'Hot',
        backorderPolicy: 'ALLOW',
        backorderLimit: null,
        lowStockThreshold: null,
        restockLeadTimeDays: null,
      }),
    );
    const writes = Array.from({ length: 200 }, (_, i) =>
      i % 3 === 2
        ? t.writer
            .run((tx) => adjustStock(tx, staff, { productId: product.id, delta: -2, reason: 'shrinkage' }))
            .then(
              () => -2,
              (err) => {
                // A decrease that would go below zero is refused as a whole; that is fine, and counted.
                if (err instanceof StockBelowAllocatedError) return 0;
                throw err;
              },
            )
        : t.writer
            .run((tx) => receiveStock(tx, staff, { productId: product.id, quantity: 3, inboundId: null }))
            .then(() => 3),
    );
    const applied = (await Promise.all(writes)).reduce((a, b) => a + b, 0);
    const [stock] = await findStockByProductIds(t.db, [product.id]);
    const ledger = await ledgerTotals(t.db, product.id);
    expect(stock!.onHand).toBe(applied);
    expect(ledger).toEqual({ onHand: stock!.onHand, allocated: stock!.allocated });
    expect(stock!.onHand).toBeGreaterThan(0);
  });
});
