import { describe, expect, it } from 'vitest';
import {
  availabilityStatus,
  availableUnits,
  canBackorder,
  estimateAvailableAt,
  remainingCapacity,
} from '../../src/domain/availability.ts';
import type { ProductRecord, StockRecord } from '../../src/domain/rules/records.ts';

const product = (over: Partial<ProductRecord> = {}): ProductRecord => ({
  id: 1,
  sku: 'P',
  name: 'P',
  backorderPolicy: 'ALLOW',
  backorderLimit: null,
  lowStockThreshold: null,
  restockLeadTimeDays: null,
  maxPerCustomer: null,
  createdAt: new Date(0),
  ...over,
});
const stock = (over: Partial<StockRecord> = {}): StockRecord => ({
  productId: 1,
  onHand: 0,
  allocated: 0,
  queueLength: 0,
  unitsOnBackorder: 0,
  ...over,
});

describe('availability', () => {
  it('never reports negative availability', () => {
    expect(availableUnits(stock({ onHand: 3, allocated: 5 }))).toBe(0);
    expect(availableUnits(stock({ onHand: 8, allocated: 5 }))).toBe(3);
  });

  it('IN_STOCK above the threshold, LOW_STOCK at or below it, then BACKORDER or OUT_OF_STOCK', () => {
    const p = product({ lowStockThreshold: 3 });
    expect(availabilityStatus(p, stock({ onHand: 4 }))).toBe('IN_STOCK');
    expect(availabilityStatus(p, stock({ onHand: 3 }))).toBe('LOW_STOCK');
    expect(availabilityStatus(p, stock({ onHand: 1 }))).toBe('LOW_STOCK');
    expect(availabilityStatus(p, stock())).toBe('BACKORDER');
    expect(availabilityStatus(product({ backorderPolicy: 'DENY' }), stock())).toBe('OUT_OF_STOCK');
  });

  it('an unset threshold counts as 0', () => {
    expect(availabilityStatus(product(), stock({ onHand: 1 }))).toBe('IN_STOCK');
  });

  it('the cap counts units on backorder', () => {
    const p = product({ backorderLimit: 10 });
    expect(remainingCapacity(p, stock({ unitsOnBackorder: 7 }))).toBe(3);
    expect(canBackorder(p, stock({ unitsOnBackorder: 7 }), 3)).toBe(true);
    expect(canBackorder(p, stock({ unitsOnBackorder: 7 }), 4)).toBe(false);
    expect(availabilityStatus(p, stock({ unitsOnBackorder: 10 }))).toBe('OUT_OF_STOCK');
    expect(remainingCapacity(product(), stock())).toBeNull();
  });

  it('estimates now when available, the walk for the rest otherwise, null when refused', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    const inbound = [{ remaining: 4, expectedAt: new Date('2026-03-05T00:00:00Z') }];
    expect(estimateAvailableAt(product(), stock({ onHand: 2 }), inbound, 2, now)).toEqual(now);
    // 2 available, 3 missing, 2 already waiting: 5 units needed from inbound (4) -> no lead time -> null
    expect(
      estimateAvailableAt(product(), stock({ onHand: 2, unitsOnBackorder: 2 }), inbound, 5, now),
    ).toBeNull();
    expect(
      estimateAvailableAt(product(), stock({ onHand: 2, unitsOnBackorder: 1 }), inbound, 5, now),
    ).toEqual(new Date('2026-03-05T00:00:00Z'));
    expect(estimateAvailableAt(product({ backorderPolicy: 'DENY' }), stock(), inbound, 1, now)).toBeNull();
  });
});
