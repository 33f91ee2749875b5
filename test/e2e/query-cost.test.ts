import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readers } from '../../src/read/readers.ts';
import { fromGlobalId } from '../../src/schema/ids.ts';
import {
  CatalogDocument,
  MyBackordersDocument,
  MyOrdersDocument,
  ProductQueueDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, order, placed, receive, schedule } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
});
afterAll(() => t?.stop());

/**
 * Statements one request costs; the least of three runs, each once the work after earlier writes is done,
 * so that a background poll of the change log does not count.
 */
async function statementsFor(send: () => Promise<unknown>): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    // Work that follows earlier writes (public events, feeds told of new notifications) is done first.
    await t.app.outbox.poke();
    await t.app.live.read();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = t.app.queries.count;
    await send();
    counts.push(t.app.queries.count - before);
  }
  return Math.min(...counts);
}

describe('a page costs a fixed number of statements, however long it is', () => {
  it('the catalogue with availability: 3 products or 40', async () => {
    for (let i = 0; i < 40; i++) {
      const { id } = await createProduct(t, staff, { sku: `COST-${String(i).padStart(2, '0')}` });
      if (i % 2 === 0) await receive(t, staff, id, i + 1);
    }
    const small = await statementsFor(() => t.ok(CatalogDocument, { first: 3 }));
    const large = await statementsFor(() => t.ok(CatalogDocument, { first: 40 }));
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(3);
  });

  it('a queue page with positions: 5 backorders or 60, on a queue of 80', async () => {
    const { id, sku } = await createProduct(t, staff);
    await schedule(t, staff, id, 10, new Date(Date.now() + 86_400_000));
    for (let i = 0; i < 80; i++) {
      placed(await order(t, await t.token('customer', `cost-${i}`), [{ productId: id, quantity: 1 }]));
    }
    const small = await statementsFor(() => t.ok(ProductQueueDocument, { sku, first: 5 }, staff));
    const large = await statementsFor(() => t.ok(ProductQueueDocument, { sku, first: 60 }, staff));
    expect(large).toBe(small);
  });

  it("a customer's backorders with positions and ETAs: 2 or 30", async () => {
    const customer = await t.token('customer', 'cost-many');
    for (let i = 0; i < 30; i++) {
      const { id } = await createProduct(t, staff);
      await schedule(t, staff, id, 5, new Date(Date.now() + (i + 1) * 86_400_000));
      placed(await order(t, customer, [{ productId: id, quantity: 2 }]));
    }
    const small = await statementsFor(() => t.ok(MyBackordersDocument, { first: 2 }, customer));
    const large = await statementsFor(() => t.ok(MyBackordersDocument, { first: 30 }, customer));
    expect(large).toBe(small);
  });

  it("a customer's order history with lines, positions and ETAs: 2 orders or 12, of 4 lines each", async () => {
    const customer = await t.token('customer', 'cost-history');
    const products = [];
    for (let i = 0; i < 4; i++) {
      const { id } = await createProduct(t, staff);
      await schedule(t, staff, id, 3, new Date(Date.now() + (i + 1) * 86_400_000));
      products.push(id);
    }
    for (let i = 0; i < 12; i++) {
      placed(
        await order(
          t,
          customer,
          products.map((productId) => ({ productId, quantity: 1 })),
        ),
      );
    }
    const small = await statementsFor(() => t.ok(MyOrdersDocument, { first: 2 }, customer));
    const large = await statementsFor(() => t.ok(MyOrdersDocument, { first: 12 }, customer));
    expect(large).toBe(small);
    // The page, its lines, then their products, backorders and inbound, then the backorders' ranks.
    expect(large).toBeLessThanOrEqual(6);
  });
});

describe('a filled page of orders resolves without waiting', () => {
  it('lines, products, backorders, positions and ETAs answer at once, not as promises', async () => {
    const customer = await t.token('customer', 'filled-history');
    const { id } = await createProduct(t, staff);
    await schedule(t, staff, id, 5, new Date(Date.now() + 86_400_000));
    const placedOrder = placed(await order(t, customer, [{ productId: id, quantity: 2 }]));
    const orderId = fromGlobalId(placedOrder.id, 'Order')!;

    const readers = new Readers(t.database.db);
    await readers.fillOrders([orderId], {
      lines: true,
      products: true,
      backorders: true,
      ranks: true,
      etas: true,
    });
    const lines = readers.orderLines.get(orderId);
    expect(lines).not.toBeInstanceOf(Promise);
    const [line] = lines as Awaited<typeof lines>;
    expect(readers.product.get(line!.productId)).not.toBeInstanceOf(Promise);
    const backorder = readers.backorderByLine.get(line!.id);
    expect(backorder).not.toBeInstanceOf(Promise);
    const b = backorder as NonNullable<Awaited<typeof backorder>>;
    expect(readers.queueRank.get(b.id)).toMatchObject({ position: 1 });
    const eta = readers.backorderEta(b, new Date());
    expect(eta).toBeInstanceOf(Date);
    // And what was not filled still loads, as a promise.
    expect(new Readers(t.database.db).orderLines.get(orderId)).toBeInstanceOf(Promise);
  });
});

describe("what the caller's role shuts costs it nothing", () => {
  it('an anonymous "MyOrders" at its largest page is answered with viewer null, not refused for cost', async () => {
    expect(await t.ok(MyOrdersDocument, { first: 100 })).toEqual({ viewer: null });
  });
});
