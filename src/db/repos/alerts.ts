import { sql } from 'kysely';
import type { Executor, Write, WriteTx } from '../transaction.ts';
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

/**
 * The customer's requests are decided one at a time: a transaction-long lock of the customer's own (an
 * advisory lock, so no row is needed), held until commit. Two requests of one customer, for any products,
 * cannot both count the same open requests and both pass the cap.
 */
export async function lockCustomerRequests(tx: WriteTx, customerId: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${CUSTOMER_REQUESTS_LOCK}, hashtext(${customerId}))`.execute(tx.trx);
}

/** The first key of the customer lock above: its own space among advisory locks ('alrt'). */
const CUSTOMER_REQUESTS_LOCK = 0x616c7274;

/** The customer's open requests, counted up to `upTo` (what the cap needs, however many there are). */
export async function countOpenRequestsOf(ex: Executor, customerId: string, upTo: number): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      SELECT 1 FROM availability_request WHERE customer_id = ${customerId} AND status = 'OPEN' LIMIT ${upTo}
    ) open
  `.execute(ex);
  return rows[0]?.n ?? 0;
}

/**
 * Opens a request, or answers the one already open (one per customer and product): `created` says which.
 * A request the customer withdrew for the product is opened again (its row and id, asked anew) rather than
 * a row written per withdrawal; a request that fired is never reopened. The caller holds the customer's
 * lock and the product's stock lock.
 */
export async function openAvailabilityRequest(
  tx: WriteTx,
  customerId: string,
  productId: number,
): Promise<{ request: AvailabilityRequestRecord; created: boolean }> {
  const { rows: reopened } = await sql<AvailabilityRequestRecord>`
    UPDATE availability_request SET status = 'OPEN', created_at = now(), closed_at = NULL
    WHERE id = (
        SELECT id FROM availability_request
        WHERE customer_id = ${customerId} AND product_id = ${productId} AND status = 'CANCELLED'
        ORDER BY id DESC LIMIT 1)
      AND status = 'CANCELLED'
      AND NOT EXISTS (
        SELECT 1 FROM availability_request
        WHERE customer_id = ${customerId} AND product_id = ${productId} AND status = 'OPEN')
    RETURNING id, customer_id AS "customerId", product_id AS "productId", status, created_at AS "createdAt",
      closed_at AS "closedAt"
  `.execute(tx.trx);
  if (reopened[0]) return { request: reopened[0], created: true };
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

/**
 * Deletes up to `batch` requests withdrawn or fired before the cutoff, oldest first. A request being opened
 * again at this moment is skipped (it is locked), and one this deletes is not reopened: its customer's
 * request then gets a new row.
 */
export async function pruneClosedRequests(write: Write, cutoffMs: number, batch: number): Promise<number> {
  const result = await sql`
    DELETE FROM availability_request WHERE id IN (
      SELECT id FROM availability_request
      WHERE status <> 'OPEN' AND closed_at < now() - make_interval(secs => ${cutoffMs / 1000})
      ORDER BY closed_at LIMIT ${batch}
      FOR UPDATE SKIP LOCKED)
  `.execute(write.trx);
  return Number(result.numAffectedRows ?? 0);
}
