import { describe, expect, it } from 'vitest';
import {
  afterCheckoutLine,
  afterFill,
  afterMovements,
  backorderRefusal,
  fillCompletes,
  inboundComplete,
  placeAtTail,
  rankQueue,
  remainingCapacity,
  unitsForNewOrders,
  unitsForQueue,
} from '../../src/domain/rules/stock-rules.ts';

const stock = (
  s: Partial<{ onHand: number; allocated: number; queueLength: number; unitsOnBackorder: number }>,
) => ({
  onHand: 0,
  allocated: 0,
  queueLength: 0,
  unitsOnBackorder: 0,
  ...s,
});

describe('units go to the queue first', () => {
  it('new orders take nothing while anyone waits', () => {
    expect(unitsForNewOrders(stock({ onHand: 5, allocated: 1 }))).toBe(4);
    expect(unitsForNewOrders(stock({ onHand: 5, queueLength: 1, unitsOnBackorder: 2 }))).toBe(0);
  });

  it('the queue is owed what is available, up to what it misses', () => {
    expect(unitsForQueue(stock({ onHand: 5 }))).toBe(0);
    expect(unitsForQueue(stock({ onHand: 5, queueLength: 2, unitsOnBackorder: 3 }))).toBe(3);
    expect(unitsForQueue(stock({ onHand: 5, allocated: 4, queueLength: 2, unitsOnBackorder: 3 }))).toBe(1);
  });
});

describe('counter effects in memory', () => {
  it('moves on hand and allocated by the movements', () => {
    const s = stock({ onHand: 10, allocated: 2 });
    expect(afterMovements(s, [{ kind: 'SHIPMENT', quantity: -2 }])).toEqual({
      ...s,
      onHand: 8,
      allocated: 0,
    });
    expect(afterMovements(s, [{ kind: 'RECEIPT', quantity: 3 }])).toEqual({ ...s, onHand: 13 });
  });

  it('a checkout line allocates what it takes and queues the rest as one backorder', () => {
    const s = stock({ onHand: 3, queueLength: 1, unitsOnBackorder: 4 });
    expect(afterCheckoutLine(s, { taken: 3, rest: 0 })).toEqual({ ...s, allocated: 3 });
    expect(afterCheckoutLine(s, { taken: 1, rest: 2 })).toEqual({
      ...s,
      allocated: 1,
      queueLength: 2,
      unitsOnBackorder: 6,
    });
  });

  it('a fill allocates its units and the backorders it filled leave the queue', () => {
    const s = stock({ onHand: 5, queueLength: 3, unitsOnBackorder: 9 });
    expect(afterFill(s, { units: 5, completed: 2 })).toEqual({
      ...s,
      allocated: 5,
      queueLength: 1,
      unitsOnBackorder: 4,
    });
  });
});

describe('backorder policy and capacity', () => {
  const allow = { backorderPolicy: 'ALLOW' as const, backorderLimit: null };
  it('refuses by policy first, then by the cap', () => {
    expect(backorderRefusal({ ...allow, backorderPolicy: 'DENY' }, { unitsOnBackorder: 0 }, 1)).toEqual({
      kind: 'NOT_ALLOWED',
    });
    expect(backorderRefusal(allow, { unitsOnBackorder: 1_000 }, 1_000)).toBeNull();
    expect(backorderRefusal({ ...allow, backorderLimit: 5 }, { unitsOnBackorder: 3 }, 2)).toBeNull();
    expect(backorderRefusal({ ...allow, backorderLimit: 5 }, { unitsOnBackorder: 3 }, 3)).toEqual({
      kind: 'LIMIT',
      capacity: 2,
    });
  });

  it('remaining capacity is never below zero; null without a cap', () => {
    expect(remainingCapacity({ backorderLimit: null }, { unitsOnBackorder: 3 })).toBeNull();
    expect(remainingCapacity({ backorderLimit: 2 }, { unitsOnBackorder: 3 })).toBe(0);
  });
});

describe('queue places and fills', () => {
  it('ranks a queue in order; a newcomer joins behind everyone', () => {
    const queue = [
      { quantity: 5, quantityAllocated: 2 },
      { quantity: 4, quantityAllocated: 0 },
    ];
    expect(rankQueue(queue)).toEqual([
      { position: 1, unitsAhead: 0, missing: 3 },
      { position: 2, unitsAhead: 3, missing: 4 },
    ]);
    expect(placeAtTail({ length: 2, units: 7 }, 1)).toEqual({ position: 3, unitsAhead: 7, missing: 1 });
  });

  it('a fill completes every backorder it served but perhaps the last', () => {
    const partial = { backorders: 3, completed: 2 };
    expect([0, 1, 2].map((i) => fillCompletes(i, 3, partial))).toEqual([true, true, false]);
    expect([0, 1, 2].map((i) => fillCompletes(i, 3, { backorders: 3, completed: 3 }))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it('an inbound shipment is complete once it received its quantity, or more', () => {
    expect(inboundComplete({ quantity: 5, quantityReceived: 4 })).toBe(false);
    expect(inboundComplete({ quantity: 5, quantityReceived: 5 })).toBe(true);
    expect(inboundComplete({ quantity: 5, quantityReceived: 6 })).toBe(true);
  });
});
