import { allocateToQueue, type Fill } from '../db/repos/backorders.ts';
import { applyStockChanges, type LockedStock, type NewMovement } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { fulfilRequestsOf } from './alerts.ts';
import type { StockRecord } from './rules/records.ts';
import {
  afterFill,
  availableUnits,
  isFilled,
  stockLevelCrossing,
  unitsForQueue,
} from './rules/stock-rules.ts';
import type { Actor } from './types.ts';

export interface StockChangeInput {
  /** Ledger rows for this change; the counters move by exactly their effects. */
  movements: Omit<NewMovement, 'productId' | 'actor'>[];
  /** A backorder leaving the queue: its place and the units it still missed. */
  queue?: { length: number; units: number };
}

/**
 * The one path by which units move for a product whose stock row the caller has locked: append the ledger
 * rows and move the counters (one statement), then hand whatever is now available to the queue first, in
 * order (one more statement, only when someone waits and units are free), and record the fill.
 */
export async function changeStock(
  tx: WriteTx,
  actor: Actor,
  locked: LockedStock,
  change: StockChangeInput,
): Promise<{ stock: StockRecord; fill: Fill | null }> {
  const result = await moveUnits(tx, actor, locked.stock, change);
  await recordCrossing(tx, locked, result.stock);
  return result;
}

/**
 * Tells the shop when a product comes back into stock or runs low (the low-stock threshold, unset: 0);
 * coming back spends every open back-in-stock request of the product, in this same transaction.
 */
export async function recordCrossing(
  tx: WriteTx,
  locked: LockedStock,
  after: { onHand: number; allocated: number },
): Promise<void> {
  const availableBefore = availableUnits(locked.stock);
  const availableAfter = availableUnits(after);
  const crossing = stockLevelCrossing(availableBefore, availableAfter, locked.product.lowStockThreshold);
  if (!crossing) return;
  tx.record({
    type: 'StockLevelCrossed',
    productId: locked.product.id,
    crossing,
    availableBefore,
    availableAfter,
  });
  if (crossing === 'BACK_IN_STOCK') await fulfilRequestsOf(tx, locked.product.id);
}

async function moveUnits(
  tx: WriteTx,
  actor: Actor,
  locked: StockRecord,
  change: StockChangeInput,
): Promise<{ stock: StockRecord; fill: Fill | null }> {
  const productId = locked.productId;
  const [changed] = await applyStockChanges(tx, [
    {
      productId,
      movements: change.movements.map((m) => ({ ...m, productId, actor: actor.id })),
      ...(change.queue ? { queue: change.queue } : {}),
    },
  ]);
  const stock = changed!;
  const units = unitsForQueue(stock);
  if (units === 0) return { stock, fill: null };
  const fill = await allocateToQueue(tx, { productId, units, actor: actor.id });
  if (!fill) return { stock, fill: null };
  const first = fill.allocations[0]!;
  const last = fill.allocations.at(-1)!;
  let granted = 0;
  let completed = 0;
  for (const a of fill.allocations) {
    granted += a.quantity;
    if (isFilled(a.status)) completed++;
  }
  tx.record({
    type: 'QueueFilled',
    productId,
    fill: fill.movementId,
    units: granted,
    backorders: fill.allocations.length,
    completed,
    fromId: first.backorderId,
    toId: last.backorderId,
    firstUnits: first.quantity,
    lastUnits: last.quantity,
  });
  // The fill moved the counters under the same lock: what they are now follows exactly.
  return { stock: afterFill(stock, { units: granted, completed }), fill };
}
