import type { InboundRecord } from '../db/records.ts';
import { insertInbound, lockInbound, updateInbound as updateRow } from '../db/repos/inbound.ts';
import { findProductsByIds } from '../db/repos/products.ts';
import type { Writer } from '../db/transaction.ts';
import { InboundClosedError, InboundQuantityError, NotFoundError } from './errors.ts';

/**
 * Planned supply. It moves no units, so it takes no stock lock; it changes every ETA of the product,
 * so each change is recorded in the change log.
 */
export async function scheduleInbound(
  writer: Writer,
  input: { productId: number; quantity: number; expectedAt: Date },
): Promise<InboundRecord> {
  return writer.run(async (tx) => {
    const [product] = await findProductsByIds(tx.trx, [input.productId]);
    if (!product) throw new NotFoundError('Product');
    const inbound = await insertInbound(tx, input);
    tx.touch(product.id);
    return inbound;
  });
}

export async function updateInbound(
  writer: Writer,
  input: { id: number; quantity?: number; expectedAt?: Date },
): Promise<InboundRecord> {
  return writer.run(async (tx) => {
    const inbound = await lockInbound(tx, input.id);
    if (!inbound) throw new NotFoundError('InboundShipment');
    if (inbound.status !== 'OPEN') throw new InboundClosedError(inbound.id, inbound.status);
    if (input.quantity !== undefined && input.quantity < inbound.quantityReceived) {
      throw new InboundQuantityError(inbound.id, inbound.quantityReceived);
    }
    // Lowering the quantity to what was already received completes the shipment.
    const complete = input.quantity !== undefined && input.quantity === inbound.quantityReceived;
    const updated = await updateRow(tx, inbound.id, {
      ...(input.quantity !== undefined ? { quantity: input.quantity } : {}),
      ...(input.expectedAt !== undefined ? { expectedAt: input.expectedAt } : {}),
      ...(complete ? { status: 'RECEIVED' as const } : {}),
    });
    tx.touch(inbound.productId);
    return updated;
  });
}

export async function cancelInbound(writer: Writer, id: number): Promise<InboundRecord> {
  return writer.run(async (tx) => {
    const inbound = await lockInbound(tx, id);
    if (!inbound) throw new NotFoundError('InboundShipment');
    if (inbound.status !== 'OPEN') throw new InboundClosedError(inbound.id, inbound.status);
    const updated = await updateRow(tx, inbound.id, { status: 'CANCELLED' });
    tx.touch(inbound.productId);
    return updated;
  });
}
