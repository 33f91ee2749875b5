import type { PlannedLine } from '../db/repos/orders.ts';
import type { LockedStock } from '../db/repos/stock.ts';
import { availableUnits, remainingCapacity } from './availability.ts';
import { BackorderLimitError, BackorderNotAllowedError, NotFoundError } from './errors.ts';

export interface OrderLineInput {
  productId: number;
  quantity: number;
}

/** Why a line cannot be served, before the (optional) ETA for the checkout is looked up. */
export type LineRefusal =
  | { kind: 'insufficient'; productId: number; available: number; missing: number }
  | { kind: 'error'; error: BackorderNotAllowedError | BackorderLimitError | NotFoundError };

/**
 * Decides each line against the locked stock rows: take what is available, backorder the rest, or refuse.
 * Pure. The first line (in input order) that cannot be served decides the refusal. No queue jumping:
 * while a product has a queue, a new order takes none of its units.
 */
export function planOrder(
  lines: readonly OrderLineInput[],
  acceptBackorder: boolean,
  locked: ReadonlyMap<number, LockedStock>,
): { lines: PlannedLine[] } | { refusal: LineRefusal } {
  const planned: PlannedLine[] = [];
  for (const [position, line] of lines.entries()) {
    const entry = locked.get(line.productId);
    if (!entry) return { refusal: { kind: 'error', error: new NotFoundError('Product') } };
    const { product, stock } = entry;
    const available = stock.queueLength > 0 ? 0 : availableUnits(stock);
    const taken = Math.min(line.quantity, available);
    const rest = line.quantity - taken;
    if (rest > 0) {
      if (!acceptBackorder) {
        return { refusal: { kind: 'insufficient', productId: product.id, available, missing: rest } };
      }
      if (product.backorderPolicy !== 'ALLOW') {
        return { refusal: { kind: 'error', error: new BackorderNotAllowedError(product.id) } };
      }
      const capacity = remainingCapacity(product, stock);
      if (capacity !== null && rest > capacity) {
        return { refusal: { kind: 'error', error: new BackorderLimitError(product.id, capacity) } };
      }
    }
    planned.push({ position, productId: product.id, quantity: line.quantity, taken, rest });
  }
  return { lines: planned };
}
