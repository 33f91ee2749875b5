import { sql } from 'kysely';
import type { BackorderRecord, PageWindow } from '../records.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import type { BackorderStatusValue } from '../types.ts';
import { keysetPage } from './keyset.ts';

const columns = [
  'id',
  'order_id as orderId',
  'order_line_id as orderLineId',
  'product_id as productId',
  'customer_id as customerId',
  'quantity',
  'quantity_allocated as quantityAllocated',
  'quantity_shipped as quantityShipped',
  'status',
  'created_at as createdAt',
] as const;

/** The statuses of a backorder that still misses units, i.e. is in its product's queue. */
const QUEUED: readonly BackorderStatusValue[] = ['WAITING', 'PARTIALLY_ALLOCATED'];

export async function findBackordersByIds(ex: Executor, ids: readonly number[]): Promise<BackorderRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('backorder')
    .select(columns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export async function findBackordersByLineIds(
  ex: Executor,
  lineIds: readonly number[],
): Promise<BackorderRecord[]> {
  if (lineIds.length === 0) return [];
  return ex
    .selectFrom('backorder')
    .select(columns)
    .where('order_line_id', '=', (eb) => eb.fn.any(eb.val([...lineIds])))
    .execute();
}

export async function lockBackorder(tx: WriteTx, id: number): Promise<BackorderRecord | undefined> {
  return tx.trx.selectFrom('backorder').select(columns).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** A customer's backorders, newest first. */
export async function listBackordersOfCustomer(
  ex: Executor,
  customerId: string,
  page: PageWindow<number>,
): Promise<BackorderRecord[]> {
  return ex
    .selectFrom('backorder')
    .select(columns)
    .where('customer_id', '=', customerId)
    .$call(keysetPage(page, true))
    .execute();
}

/** A product's queue in queue order, or its backorders of the given statuses in creation order. */
export async function listBackordersOfProduct(
  ex: Executor,
  productId: number,
  statuses: readonly BackorderStatusValue[],
  page: PageWindow<number>,
): Promise<BackorderRecord[]> {
  return ex
    .selectFrom('backorder')
    .select(columns)
    .where('product_id', '=', productId)
    .where('status', 'in', [...statuses])
    .$call(keysetPage(page, false))
    .execute();
}

export async function countBackordersOfProduct(
  ex: Executor,
  productId: number,
  statuses: readonly BackorderStatusValue[],
): Promise<number> {
  const row = await ex
    .selectFrom('backorder')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('product_id', '=', productId)
    .where('status', 'in', [...statuses])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface QueueRank {
  id: number;
  productId: number;
  position: number;
  unitsAhead: number;
  missing: number;
}

/**
 * Ranks the queues of the given backorders' products with one window-function query and returns the
 * requested ones. Scans each queue only up to the furthest requested backorder.
 */
export async function rankBackorders(ex: Executor, ids: readonly number[]): Promise<QueueRank[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql<QueueRank>`
    WITH wanted AS (
      SELECT product_id, max(id) AS max_id FROM backorder
      WHERE id = ANY(${[...ids]}::bigint[]) AND status IN ('WAITING', 'PARTIALLY_ALLOCATED')
      GROUP BY product_id
    ), ranked AS (
      SELECT b.id, b.product_id,
        row_number() OVER w AS position,
        (sum(b.quantity - b.quantity_allocated) OVER w) - (b.quantity - b.quantity_allocated) AS units_ahead,
        b.quantity - b.quantity_allocated AS missing
      FROM wanted
      JOIN backorder b ON b.product_id = wanted.product_id AND b.id <= wanted.max_id
        AND b.status IN ('WAITING', 'PARTIALLY_ALLOCATED')
      WINDOW w AS (PARTITION BY b.product_id ORDER BY b.id)
    )
    SELECT id, product_id AS "productId", position::int, units_ahead::int AS "unitsAhead", missing
    FROM ranked WHERE id = ANY(${[...ids]}::bigint[])
  `.execute(ex);
  return rows;
}

/** Every backorder of a product's queue, ranked: what live updates share among all its watchers. */
export async function rankWholeQueue(ex: Executor, productId: number): Promise<QueueRank[]> {
  const { rows } = await sql<QueueRank>`
    SELECT id, product_id AS "productId",
      (row_number() OVER w)::int AS position,
      ((sum(quantity - quantity_allocated) OVER w) - (quantity - quantity_allocated))::int AS "unitsAhead",
      quantity - quantity_allocated AS missing
    FROM backorder
    WHERE product_id = ${productId} AND status IN ('WAITING', 'PARTIALLY_ALLOCATED')
    WINDOW w AS (ORDER BY id)
    ORDER BY id
  `.execute(ex);
  return rows;
}

export interface Allocation {
  backorderId: number;
  quantity: number;
  /** The backorder after the allocation. */
  quantityAllocated: number;
  status: BackorderStatusValue;
}

/**
 * Hands `units` to the head of a product's queue in queue order, partly filling the last one served, in one
 * set-based statement that writes only that product's backorder rows and one ALLOCATION movement (who got
 * what stays on the backorders: the ledger needs the sum, and a row per backorder doubled the work). The
 * caller holds the product's stock row lock (which guards its backorders) and updates the stock counters.
 * Lines and orders are not written: what a line received is derived from its backorder.
 */
export async function allocateToQueue(
  tx: WriteTx,
  v: { productId: number; units: number; actor: string },
): Promise<Allocation[]> {
  const { rows } = await sql<Allocation>`
    WITH queue AS (
      SELECT id, quantity - quantity_allocated AS missing,
        sum(quantity - quantity_allocated) OVER (ORDER BY id) AS through
      FROM backorder
      WHERE product_id = ${v.productId} AND status IN ('WAITING', 'PARTIALLY_ALLOCATED')
    ), grants AS (
      SELECT id, LEAST(missing, ${v.units} - (through - missing))::int AS n
      FROM queue WHERE through - missing < ${v.units}
    ), served AS (
      UPDATE backorder b SET
        quantity_allocated = b.quantity_allocated + g.n,
        status = CASE WHEN b.quantity_allocated + g.n = b.quantity THEN 'ALLOCATED' ELSE 'PARTIALLY_ALLOCATED' END,
        updated_at = now()
      FROM grants g WHERE b.id = g.id
      RETURNING b.id, g.n, b.quantity_allocated, b.status
    ), movement AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reason, reference, actor)
      SELECT ${v.productId}, 'ALLOCATION', sum(n), 'served ' || count(*) || ' backorder(s) in queue order',
        'queue', ${v.actor}
      FROM grants HAVING sum(n) > 0
      RETURNING id
    )
    SELECT id AS "backorderId", n AS quantity, quantity_allocated AS "quantityAllocated", status
    FROM served ORDER BY id
  `.execute(tx.trx);
  return rows;
}

export interface CancelledBackorder {
  /** Allocated, unshipped units handed back. */
  released: number;
  /** Units it still missed when it left the queue. */
  missing: number;
  wasQueued: boolean;
}

/** Cancels a (locked) backorder: it leaves the queue and keeps only the units already shipped. */
export async function cancelBackorderRow(tx: WriteTx, b: BackorderRecord): Promise<CancelledBackorder> {
  const released = b.quantityAllocated - b.quantityShipped;
  const wasQueued = QUEUED.includes(b.status);
  const missing = wasQueued ? b.quantity - b.quantityAllocated : 0;
  await tx.trx
    .updateTable('backorder')
    .set((eb) => ({
      status: 'CANCELLED',
      quantity_allocated: eb.ref('quantity_shipped'),
      updated_at: new Date(),
    }))
    .where('id', '=', b.id)
    .execute();
  return { released, missing, wasQueued };
}
