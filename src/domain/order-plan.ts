import type { PlannedLine } from '../db/repos/orders.ts';
import type { LockedStock } from '../db/repos/stock.ts';
import { BackorderLimitError, BackorderNotAllowedError, NotFoundError, TotalLimitError } from './errors.ts';
import type { StockRecord } from './rules/records.ts';
import {
  afterCheckoutLine,
  backorderRefusal,
  MAX_TOTAL,
  totalOverflow,
  unitsForNewOrders,
} from './rules/stock-rules.ts';

export interface OrderLineInput {
  productId: number;
  quantity: number;
}

/** Why a line cannot be served, before the (optional) ETA for the checkout is looked up. */
export type LineRefusal =
  | { kind: 'insufficient'; productId: number; available: number; missing: number; stock: StockRecord }
  | {
      kind: 'error';
      error: BackorderNotAllowedError | BackorderLimitError | NotFoundError | TotalLimitError;
    };

/**
 * Decides each line against the locked stock rows: take what is available, backorder the rest, or refuse.
 * Pure. The first line (in input order) that cannot be served decides the refusal. No queue jumping:
 * while a product has a queue, a new order takes none of its units. A product on several lines: each
 * line sees the stock as the earlier lines left it.
 */
export function planOrder(
  lines: readonly OrderLineInput[],
  acceptBackorder: boolean,
  locked: ReadonlyMap<number, LockedStock>,
): { lines: PlannedLine[] } | { refusal: LineRefusal } {
  const planned: PlannedLine[] = [];
  const running = new Map<number, StockRecord>();
  for (const [position, line] of lines.entries()) {
    const entry = locked.get(line.productId);
    if (!entry) return { refusal: { kind: 'error', error: new NotFoundError('Product') } };
    const { product } = entry;
    const stock = running.get(product.id) ?? entry.stock;
    const available = unitsForNewOrders(stock);
    const taken = Math.min(line.quantity, available);
    const rest = line.quantity - taken;
    if (rest > 0) {
      if (!acceptBackorder) {
        return { refusal: { kind: 'insufficient', productId: product.id, available, missing: rest, stock } };
      }
      const refused = backorderRefusal(product, stock, rest);
      if (refused?.kind === 'NOT_ALLOWED') {
        return { refusal: { kind: 'error', error: new BackorderNotAllowedError(product.id) } };
      }
      if (refused?.kind === 'LIMIT') {
        return { refusal: { kind: 'error', error: new BackorderLimitError(product.id, refused.capacity) } };
      }
    }
    planned.push({ position, productId: product.id, quantity: line.quantity, taken, rest });
    running.set(product.id, afterCheckoutLine(stock, { taken, rest }));
  }
  // Every line fits: the product's totals after the whole order must still be countable.
  for (const [productId, after] of running) {
    const overflow = totalOverflow(locked.get(productId)!.stock, after);
    if (overflow) {
      const error = new TotalLimitError(productId, overflow.total, MAX_TOTAL, overflow.remaining);
      return { refusal: { kind: 'error', error } };
    }
  }
  return { lines: planned };
}
