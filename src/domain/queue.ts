import type { StockRecord } from '../db/records.ts';
import { type Allocation, allocateToQueue } from '../db/repos/backorders.ts';
import { applyStockDeltas, type StockDelta } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { availableUnits } from './availability.ts';

/**
 * Units go to the queue first. Given the locked stock row as it will be after a change (`pending` not yet
 * written), hands whatever is available to the queue in order and writes the counters once.
 */
export async function settleStock(
  tx: WriteTx,
  locked: StockRecord,
  pending: StockDelta,
  actor: string,
): Promise<{ stock: StockRecord; allocations: Allocation[] }> {
  const after = {
    onHand: locked.onHand + (pending.onHand ?? 0),
    allocated: locked.allocated + (pending.allocated ?? 0),
    queueLength: locked.queueLength + (pending.queueLength ?? 0),
    unitsOnBackorder: locked.unitsOnBackorder + (pending.unitsOnBackorder ?? 0),
  };
  const units = Math.min(availableUnits({ ...locked, ...after }), after.unitsOnBackorder);
  const allocations =
    after.queueLength > 0 && units > 0
      ? await allocateToQueue(tx, { productId: locked.productId, units, actor })
      : [];
  let granted = 0;
  let served = 0;
  for (const a of allocations) {
    granted += a.quantity;
    if (a.status === 'ALLOCATED') served++;
  }
  const [stock] = await applyStockDeltas(tx, [
    {
      productId: locked.productId,
      onHand: pending.onHand ?? 0,
      allocated: (pending.allocated ?? 0) + granted,
      queueLength: (pending.queueLength ?? 0) - served,
      unitsOnBackorder: (pending.unitsOnBackorder ?? 0) - granted,
    },
  ]);
  tx.touch(locked.productId);
  return { stock: stock!, allocations };
}
