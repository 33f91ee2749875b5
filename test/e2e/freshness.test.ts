import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/edge/app/server.ts';
import { ProductAvailabilityDocument, type ProductAvailabilityQuery } from '../generated/graphql.ts';
import { startSecondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, receive } from '../helpers/fixtures.ts';

/**
 * The contract's "Freshness of reads" with availability's inputs held in memory: the serving instance
 * reflects its own mutation once it has answered; another instance within one second; time-dependent
 * fields are computed at the time of the query; a product dropped from memory is read again.
 */
let t: TestApp;
let second: App;
let secondPort: number;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
  ({ app: second, port: secondPort } = await startSecondInstance(t));
});
afterAll(async () => {
  await second?.stop();
  await t?.stop();
});

const availability = async (sku: string) => (await t.ok(ProductAvailabilityDocument, { sku })).product!;

/** The same query, anonymous, to the second instance. */
async function availabilityOnSecond(sku: string) {
  const res = await fetch(`http://127.0.0.1:${secondPort}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: print(ProductAvailabilityDocument), variables: { sku } }),
  });
  const body = (await res.json()) as { data: ProductAvailabilityQuery };
  return body.data.product!;
}

/**
 * Statements one call sends through the first instance: the least of three, so that a background read of
 * the change log or the outbox in the same moment does not count.
 */
async function statements(send: () => Promise<unknown>): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = t.app.queries.count;
    await send();
    counts.push(t.app.queries.count - before);
  }
  return Math.min(...counts);
}

describe('availability read from memory, never stale', () => {
  it('answers a product read again without a statement, and reflects its own mutation at once', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    expect((await availability(sku)).availability.quantityAvailable).toBe(5);
    expect(await statements(() => availability(sku))).toBe(0);
    await receive(t, staff, id, 3);
    expect((await availability(sku)).availability.quantityAvailable).toBe(8);
    await adjust(t, staff, id, -2);
    expect((await availability(sku)).availability.quantityAvailable).toBe(6);
  });

  it('reflects a change made through another instance within one second', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4);
    expect((await availabilityOnSecond(sku)).availability.quantityAvailable).toBe(4);
    expect((await availabilityOnSecond(sku)).availability.quantityAvailable).toBe(4);
    const changedAt = Date.now();
    await receive(t, staff, id, 6);
    await expect
      .poll(async () => (await availabilityOnSecond(sku)).availability.quantityAvailable, {
        timeout: 1000,
        interval: 20,
      })
      .toBe(10);
    expect(Date.now() - changedAt).toBeLessThan(1000);
  });

  it('computes time-dependent fields at the time of each query, from what it holds', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 1);
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const before = Date.now();
      const at = Date.parse((await availability(sku)).availability.estimatedAvailableAt!);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(Date.now());
      times.push(at);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(times[1]).toBeGreaterThan(times[0]!);
  });

  it('ends every race of changes and reads on the database state, on both instances', async () => {
    const { id, sku } = await createProduct(t, staff);
    const writes = Array.from({ length: 20 }, (_, i) => receive(t, staff, id, i + 1));
    const reads = Array.from({ length: 40 }, (_, i) =>
      i % 2 === 0 ? availability(sku) : availabilityOnSecond(sku),
    );
    await Promise.all([...writes, ...reads]);
    const total = (20 * 21) / 2;
    expect((await availability(sku)).availability.quantityAvailable).toBe(total);
    await expect
      .poll(async () => (await availabilityOnSecond(sku)).availability.quantityAvailable, { timeout: 1000 })
      .toBe(total);
  });
});

describe('a product dropped from memory', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await startTestApp({ readCacheProducts: 1 });
  });
  afterAll(() => small?.stop());

  it('is read again, and answered as it is', async () => {
    const smallStaff = await small.token('staff');
    const a = await createProduct(small, smallStaff);
    const b = await createProduct(small, smallStaff);
    await receive(small, smallStaff, a.id, 2);
    await receive(small, smallStaff, b.id, 3);
    const read = async (sku: string) =>
      (await small.ok(ProductAvailabilityDocument, { sku })).product!.availability.quantityAvailable;
    const cost = async (send: () => Promise<unknown>) => {
      const before = small.app.queries.count;
      await send();
      return small.app.queries.count - before;
    };
    const leastCost = async (send: () => Promise<unknown>) =>
      Math.min(await cost(send), await cost(send), await cost(send));
    expect(await read(a.sku)).toBe(2);
    expect(await leastCost(() => read(a.sku))).toBe(0);
    expect(await read(b.sku)).toBe(3);
    // Holding one product, reading b dropped a: it is read from the database again, and right.
    expect(await cost(() => read(a.sku))).toBeGreaterThan(0);
    expect(await read(a.sku)).toBe(2);
  });
});
