import { describe, expect, it } from 'vitest';
import type { ProductRecord, StockRecord } from '../../src/domain/rules/records.ts';
import { HeldInputs } from '../../src/read/held-inputs.ts';

const stock = (productId: number, onHand: number): StockRecord => ({
  productId,
  onHand,
  allocated: 0,
  queueLength: 0,
  unitsOnBackorder: 0,
});
const product = (id: number, sku: string) => ({ id, sku }) as ProductRecord;

/** A fetch that answers when told, counting its calls. */
function deferred(values: Map<number, StockRecord>) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const calls: (readonly number[])[] = [];
  return {
    calls,
    release: () => release(),
    fetch: async (ids: readonly number[]) => {
      calls.push(ids);
      await gate;
      return new Map([...values].filter(([id]) => ids.includes(id)));
    },
  };
}

const now = (values: Map<number, StockRecord>) => async (ids: readonly number[]) =>
  new Map([...values].filter(([id]) => ids.includes(id)));

describe('inputs held in memory', () => {
  it('holds what it read, and reads only what it does not hold', async () => {
    const held = new HeldInputs(10);
    const calls: (readonly number[])[] = [];
    const fetch = async (ids: readonly number[]) => {
      calls.push(ids);
      return now(
        new Map([
          [1, stock(1, 5)],
          [2, stock(2, 7)],
        ]),
      )(ids);
    };
    expect((await held.through('stock', [1], fetch))[0]?.onHand).toBe(5);
    expect((await held.through('stock', [1, 2], fetch)).map((s) => s?.onHand)).toEqual([5, 7]);
    expect(calls).toEqual([[1], [2]]);
  });

  it('never holds a read that an invalidation of its product overtook', async () => {
    const held = new HeldInputs(10);
    const slow = deferred(
      new Map([
        [1, stock(1, 5)],
        [2, stock(2, 7)],
      ]),
    );
    const reading = held.through('stock', [1, 2], slow.fetch);
    held.invalidate([1]);
    slow.release();
    // The read answers what it read; product 1's value is not kept, product 2's is.
    expect((await reading).map((s) => s?.onHand)).toEqual([5, 7]);
    const again = deferred(new Map([[1, stock(1, 9)]]));
    again.release();
    expect((await held.through('stock', [1, 2], again.fetch)).map((s) => s?.onHand)).toEqual([9, 7]);
    expect(again.calls).toEqual([[1]]);
  });

  it('drops a product on invalidation, by id and by its sku', async () => {
    const held = new HeldInputs(10);
    const rows = [product(1, 'A')];
    let reads = 0;
    const fetch = async () => {
      reads++;
      return rows;
    };
    await held.productsBySku(['A'], fetch);
    await held.productsBySku(['A'], fetch);
    expect(reads).toBe(1);
    held.invalidate([1]);
    rows[0] = product(1, 'B');
    expect(await held.productsBySku(['A'], async () => [])).toEqual([undefined]);
    expect((await held.productsBySku(['B'], fetch))[0]?.sku).toBe('B');
  });

  it('holds at most its bound, the least recently used dropped first', async () => {
    const held = new HeldInputs(2);
    const values = new Map([1, 2, 3].map((id) => [id, stock(id, id)]));
    await held.through('stock', [1], now(values));
    await held.through('stock', [2], now(values));
    await held.through('stock', [1], now(values));
    await held.through('stock', [3], now(values));
    expect(held.size).toBe(2);
    let asked: readonly number[] = [];
    await held.through('stock', [1, 2, 3], async (ids) => {
      asked = ids;
      return now(values)(ids);
    });
    expect(asked).toEqual([2]);
  });

  it('holds nothing while paused, and again once resumed', async () => {
    const held = new HeldInputs(10);
    const values = new Map([[1, stock(1, 1)]]);
    held.pause();
    await held.through('stock', [1], now(values));
    expect(held.size).toBe(0);
    held.resume();
    await held.through('stock', [1], now(values));
    expect(held.size).toBe(1);
  });
});
