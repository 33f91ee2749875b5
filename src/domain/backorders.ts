import type { BackorderRecord } from '../db/records.ts';
import { cancelBackorderRow, lockBackorder, takeOffOrder } from '../db/repos/backorders.ts';
import { insertMovements, lockStock } from '../db/repos/stock.ts';
import type { Writer } from '../db/transaction.ts';
import { BackorderNotCancellableError, NotFoundError } from './errors.ts';
import { settleStock } from './queue.ts';
import type { Actor } from './types.ts';

/** Whether the actor may see or change this backorder: its customer, or staff. */
export function canAccess(actor: Actor, record: { customerId: string }): boolean {
  return actor.role === 'staff' || record.customerId === actor.id;
}

/**
 * Leaves the queue. Allocated, unshipped units go on to the next in the queue in the same transaction.
 * Locks the product's stock row first (as every writer of the queue does), then the backorder.
 * Someone else's backorder is answered exactly as one that does not exist.
 */
export async function cancelBackorder(
  writer: Writer,
  actor: Actor,
  backorder: BackorderRecord,
): Promise<BackorderRecord> {
  return writer.run(async (tx) => {
    const locked = (await lockStock(tx, [backorder.productId])).get(backorder.productId)!;
    const current = await lockBackorder(tx, backorder.id);
    if (!current || !canAccess(actor, current)) throw new NotFoundError('Backorder');
    if (current.status === 'SHIPPED' || current.status === 'CANCELLED') {
      throw new BackorderNotCancellableError(current.status);
    }
    const cancelled = await cancelBackorderRow(tx, current);
    const { released, missing, wasQueued } = cancelled;
    await insertMovements(tx, [
      {
        productId: current.productId,
        kind: 'RELEASE',
        quantity: -released,
        reference: `backorder:${current.id}`,
        actor: actor.id,
      },
    ]);
    await settleStock(
      tx,
      locked.stock,
      {
        productId: current.productId,
        allocated: -released,
        queueLength: wasQueued ? -1 : 0,
        unitsOnBackorder: -missing,
      },
      actor.id,
      [current.orderId],
    );
    // Only now: the order row is locked together with the orders the released units went to, in id order.
    await takeOffOrder(tx, current.orderId, cancelled);
    return { ...current, status: 'CANCELLED', quantityAllocated: current.quantityShipped };
  });
}
