import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogDocument, MyBackordersDocument, ProductQueueDocument } from '../generated/graphql.ts';
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
});
