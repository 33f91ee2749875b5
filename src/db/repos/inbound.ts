import type { Updateable } from 'kysely';
import type { InboundRecord } from '../../domain/rules/records.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import type { InboundShipmentTable } from '../types.ts';

const columns = [
  'id',
  'product_id as productId',
  'quantity',
  'quantity_received as quantityReceived',
  'expected_at as expectedAt',
  'status',
  'created_at as createdAt',
] as const;

export async function insertInbound(
  tx: WriteTx,
  v: { productId: number; quantity: number; expectedAt: Date },
): Promise<InboundRecord> {
  return tx.trx
    .insertInto('inbound_shipment')
    .values({ product_id: v.productId, quantity: v.quantity, expected_at: v.expectedAt })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function findInboundByIds(ex: Executor, ids: readonly number[]): Promise<InboundRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('inbound_shipment')
    .select(columns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export async function lockInbound(tx: WriteTx, id: number): Promise<InboundRecord | undefined> {
  return tx.trx
    .selectFrom('inbound_shipment')
    .select(columns)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateInbound(
  tx: WriteTx,
  id: number,
  patch: {
    quantity?: number;
    quantityReceived?: number;
    expectedAt?: Date;
    status?: InboundRecord['status'];
  },
): Promise<InboundRecord> {
  const set: Updateable<InboundShipmentTable> = { updated_at: new Date() };
  if (patch.quantity !== undefined) set.quantity = patch.quantity;
  if (patch.quantityReceived !== undefined) set.quantity_received = patch.quantityReceived;
  if (patch.expectedAt !== undefined) set.expected_at = patch.expectedAt;
  if (patch.status !== undefined) set.status = patch.status;
  return tx.trx
    .updateTable('inbound_shipment')
    .set(set)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** Open shipments of these products, each product's in expectedAt order (the ETA walk's order). */
export async function listOpenInbound(ex: Executor, productIds: readonly number[]): Promise<InboundRecord[]> {
  if (productIds.length === 0) return [];
  return ex
    .selectFrom('inbound_shipment')
    .select(columns)
    .where('product_id', '=', (eb) => eb.fn.any(eb.val([...productIds])))
    .where('status', '=', 'OPEN')
    .orderBy('product_id')
    .orderBy('expected_at')
    .orderBy('id')
    .execute();
}
