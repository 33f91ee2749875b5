import { estimateCoverage, type OpenInbound } from './rules/eta.ts';
import type { ProductRecord, StockRecord } from './rules/records.ts';
import { availableUnits, backorderRefusal, remainingCapacity } from './rules/stock-rules.ts';

/** What availability depends on: the product's policy and the stock row's counters. */
type ProductView = Pick<
  ProductRecord,
  'backorderPolicy' | 'backorderLimit' | 'lowStockThreshold' | 'restockLeadTimeDays'
>;
type StockView = Pick<StockRecord, 'onHand' | 'allocated' | 'unitsOnBackorder'>;

export type AvailabilityStatus = 'IN_STOCK' | 'LOW_STOCK' | 'BACKORDER' | 'OUT_OF_STOCK';

export { availableUnits, remainingCapacity };

/** Whether a backorder of `units` would be accepted now (policy and cap; the customer's consent aside). */
export function canBackorder(product: ProductView, stock: StockView, units: number): boolean {
  return backorderRefusal(product, stock, units) === null;
}

export function availabilityStatus(product: ProductView, stock: StockView): AvailabilityStatus {
  const available = availableUnits(stock);
  if (available > (product.lowStockThreshold ?? 0)) return 'IN_STOCK';
  if (available > 0) return 'LOW_STOCK';
  return canBackorder(product, stock, 1) ? 'BACKORDER' : 'OUT_OF_STOCK';
}

/**
 * When `quantity` units could be had by an order placed now: now if available; otherwise when a backorder
 * for the missing rest, joining the tail of the queue, would be covered; null if it would not be accepted.
 */
export function estimateAvailableAt(
  product: ProductView,
  stock: StockView,
  inbound: readonly OpenInbound[],
  quantity: number,
  now: Date,
): Date | null {
  const available = availableUnits(stock);
  if (available >= quantity) return now;
  const missing = quantity - available;
  if (!canBackorder(product, stock, missing)) return null;
  return estimateCoverage(stock.unitsOnBackorder + missing, inbound, product.restockLeadTimeDays, now);
}
