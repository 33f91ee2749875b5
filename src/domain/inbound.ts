import { insertInbound, lockInbound, updateInbound as updateRow } from '../db/repos/inbound.ts';
import { findProductsByIds } from '../db/repos/products.ts';
import type { WriteTx } from '../db/transaction.ts';
import { InboundClosedError, InboundQuantityError, NotFoundError } from './errors.ts';
import type { InboundRecord } from './rules/records.ts';
import { inboundComplete } from './rules/stock-rules.ts';

/**
 * Planned supply. It moves no units, so it takes no stock lock; it changes every ETA of the product,
 * so each change is recorded as an event of that product.
 */
export async function scheduleInbound(
  tx: WriteTx,
  input: { productId: number; quantity: number; expectedAt: Date },
): Promise<InboundRecord> {
  const [product] = await findProductsByIds(tx.trx, [input.productId]);
  if (!product) throw new NotFoundError('Product');
  const inbound = await insertInbound(tx, input);
  tx.record({
    type: 'InboundScheduled',
    productId: product.id,
    inboundId: inbound.id,
    quantity: inbound.quantity,
    expectedAt: inbound.expectedAt.toISOString(),
  });
  return inbound;
}

export async function updateInbound(
  tx: WriteTx,
  input: { id: number; quantity?: number; expectedAt?: Date },
): Promise<InboundRecord> {
  const inbound = await lockInbound(tx, input.id);
  if (!inbound) throw new NotFoundError('InboundShipment');
  if (inbound.status !== 'OPEN') throw new InboundClosedError(inbound.id, inbound.status);
  if (input.quantity !== undefined && input.quantity < inbound.quantityReceived) {
    throw new InboundQuantityError(inbound.id, inbound.quantityReceived);
  }
  // Lowering the quantity to what was already received completes the shipment.
  const complete =
    input.quantity !== undefined &&
    inboundComplete({ quantity: input.quantity, quantityReceived: inbound.quantityReceived });
  const updated = await updateRow(tx, inbound.id, {
    ...(input.quantity !== undefined ? { quantity: input.quantity } : {}),
    ...(input.expectedAt !== undefined ? { expectedAt: input.expectedAt } : {}),
    ...(complete ? { status: 'RECEIVED' as const } : {}),
  });
  tx.record({
    type: 'InboundUpdated',
    productId: updated.productId,
    inboundId: updated.id,
    quantity: updated.quantity,
    expectedAt: updated.expectedAt.toISOString(),
    received: updated.status === 'RECEIVED',
  });
  return updated;
}

export async function cancelInbound(tx: WriteTx, id: number): Promise<InboundRecord> {
  const inbound = await lockInbound(tx, id);
  if (!inbound) throw new NotFoundError('InboundShipment');
  if (inbound.status !== 'OPEN') throw new InboundClosedError(inbound.id, inbound.status);
  const updated = await updateRow(tx, inbound.id, { status: 'CANCELLED' });
  tx.record({ type: 'InboundCancelled', productId: updated.productId, inboundId: updated.id });
  return updated;
}
