import type { BackorderRecord } from '../db/records.ts';
import { cancelBackorderRow, lockBackorder } from '../db/repos/backorders.ts';
import { lockOrder, refreshOrderOpen } from '../db/repos/orders.ts';
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
 * Locks the product's stock row first (as every writer of the queue does), then the backorder, then its order.
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
    await lockOrder(tx, current.orderId);
    const { released, missing, wasQueued } = await cancelBackorderRow(tx, current);
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
    );
    await refreshOrderOpen(tx, current.orderId);
    return { ...current, status: 'CANCELLED', quantityAllocated: current.quantityShipped };
  });
}
