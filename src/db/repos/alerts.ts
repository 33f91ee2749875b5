import { sql } from 'kysely';
import type { Executor, WriteTx } from '../transaction.ts';
import type { AvailabilityRequestStatusValue } from '../types.ts';

export interface AvailabilityRequestRecord {
  id: number;
  customerId: string;
  productId: number;
  status: AvailabilityRequestStatusValue;
  createdAt: Date;
  closedAt: Date | null;
}

const columns = [
  'id',
  'customer_id as customerId',
  'product_id as productId',
  'status',
  'created_at as createdAt',
  'closed_at as closedAt',
] as const;

/** Opens a request, or answers the one already open (one per customer and product): `created` says which. */
export async function openAvailabilityRequest(
  tx: WriteTx,
  customerId: string,
  productId: number,
): Promise<{ request: AvailabilityRequestRecord; created: boolean }> {
  const inserted = await tx.trx
    .insertInto('availability_request')
    .values({ customer_id: customerId, product_id: productId })
    .onConflict((oc) => oc.columns(['customer_id', 'product_id']).where('status', '=', 'OPEN').doNothing())
    .returning(columns)
    .executeTakeFirst();
  if (inserted) return { request: inserted, created: true };
  const open = await tx.trx
    .selectFrom('availability_request')
    .select(columns)
    .where('customer_id', '=', customerId)
    .where('product_id', '=', productId)
    .where('status', '=', 'OPEN')
    .executeTakeFirstOrThrow();
  return { request: open, created: false };
}

export async function cancelAvailabilityRequestRow(
  tx: WriteTx,
  customerId: string,
  productId: number,
): Promise<AvailabilityRequestRecord | undefined> {
  return tx.trx
    .updateTable('availability_request')
    .set({ status: 'CANCELLED', closed_at: new Date() })
    .where('customer_id', '=', customerId)
    .where('product_id', '=', productId)
    .where('status', '=', 'OPEN')
    .returning(columns)
    .executeTakeFirst();
}

/** Spends every open request of a product at once; the caller holds the product's stock lock. */
export async function fulfilAvailabilityRequests(
  tx: WriteTx,
  productId: number,
): Promise<{ id: number; customerId: string }[]> {
  const { rows } = await sql<{ id: number; customerId: string }>`
    UPDATE availability_request SET status = 'FULFILLED', closed_at = now()
    WHERE product_id = ${productId} AND status = 'OPEN'
    RETURNING id, customer_id AS "customerId"
  `.execute(tx.trx);
  return rows.sort((a, b) => a.id - b.id);
}

export async function findAvailabilityRequestsByIds(
  ex: Executor,
  ids: readonly number[],
): Promise<AvailabilityRequestRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('availability_request')
    .select(columns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

/** Open requests per product: how many customers wait to hear it is back. */
export async function countOpenRequests(ex: Executor, productIds: readonly number[]) {
  if (productIds.length === 0) return [];
  const { rows } = await sql<{ productId: number; n: number }>`
    SELECT product_id AS "productId", count(*)::int AS n FROM availability_request
    WHERE product_id = ANY(${[...productIds]}::bigint[]) AND status = 'OPEN' GROUP BY product_id
  `.execute(ex);
  return rows;
}

/** A customer's open request per product, for the product page. */
export async function findOpenRequests(ex: Executor, customerId: string, productIds: readonly number[]) {
  if (productIds.length === 0) return [];
  return ex
    .selectFrom('availability_request')
    .select(columns)
    .where('customer_id', '=', customerId)
    .where('product_id', '=', (eb) => eb.fn.any(eb.val([...productIds])))
    .where('status', '=', 'OPEN')
    .execute();
}
