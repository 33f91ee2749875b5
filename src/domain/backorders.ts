import { cancelBackorderRow, lockBackorder } from '../db/repos/backorders.ts';
import { lockOrder, refreshOrderOpen } from '../db/repos/orders.ts';
import { lockStock } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { BackorderNotCancellableError, NotFoundError } from './errors.ts';
import { changeStock } from './queue.ts';
import type { BackorderRecord } from './rules/records.ts';
import { CANCELLED_BACKORDER_STATUS, canCancel, cancelEffect } from './rules/stock-rules.ts';
import type { Actor } from './types.ts';

/** Whether the actor may see or change this backorder: its customer, or staff. */
export function canAccess(actor: Actor, record: { customerId: string }): boolean {
  return actor.role === 'staff' || record.customerId === actor.id;
}

/**
 * Leaves the queue. Allocated, unshipped units go on to the next in the queue in the same transaction.
 * Locks the product's stock row first (as every writer of the queue does), then the backorder, then its order.
 * Someone else's backorder is answered exactly as one that does not exist.
 */
export async function cancelBackorder(
  tx: WriteTx,
  actor: Actor,
  backorder: BackorderRecord,
): Promise<BackorderRecord> {
  const locked = (await lockStock(tx, [backorder.productId])).get(backorder.productId)!;
  const current = await lockBackorder(tx, backorder.id);
  if (!current || !canAccess(actor, current)) throw new NotFoundError('Backorder');
  if (!canCancel(current.status)) throw new BackorderNotCancellableError(current.status);
  await lockOrder(tx, current.orderId);
  const effect = cancelEffect(current);
  await cancelBackorderRow(tx, current);
  tx.record({
    type: 'BackorderCancelled',
    productId: current.productId,
    backorderId: current.id,
    orderId: current.orderId,
    customerId: current.customerId,
    released: effect.released,
  });
  await changeStock(tx, actor, locked, {
    movements: [{ kind: 'RELEASE', quantity: -effect.released, reference: `backorder:${current.id}` }],
    queue: { length: effect.leftQueue ? -1 : 0, units: -effect.missing },
  });
  await refreshOrderOpen(tx, current.orderId);
  return { ...current, status: CANCELLED_BACKORDER_STATUS, quantityAllocated: current.quantityShipped };
}
