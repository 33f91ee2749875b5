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
export const QUEUED: readonly BackorderStatusValue[] = ['WAITING', 'PARTIALLY_ALLOCATED'];

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

/** The first `units` missing units of a product's queue, per backorder in queue order. */
function grantsOf(productId: number, units: number) {
  return sql`
    queue AS (
      SELECT id, order_id, order_line_id, quantity - quantity_allocated AS missing,
        sum(quantity - quantity_allocated) OVER (ORDER BY id) AS through
      FROM backorder
      WHERE product_id = ${productId} AND status IN ('WAITING', 'PARTIALLY_ALLOCATED')
    ), grants AS (
      SELECT id, order_id, order_line_id, LEAST(missing, ${units} - (through - missing))::int AS n
      FROM queue WHERE through - missing < ${units}
    )
  `;
}

/**
 * Hands `units` to the head of a product's queue in queue order, partly filling the last one served:
 * backorders, their order lines, their orders' counters and one ALLOCATION movement per backorder served.
 * The caller holds the stock row lock and updates the stock counters.
 *
 * Orders span products, so writers serving different queues meet on the same order rows. Every such writer
 * locks all the order rows it will change, `alsoLock` included, in one pass in id order before changing any:
 * otherwise two of them can each hold an order the other needs (a deadlock, one of them failing).
 */
export async function allocateToQueue(
  tx: WriteTx,
  v: { productId: number; units: number; actor: string; alsoLock?: readonly number[] },
): Promise<Allocation[]> {
  await sql`
    WITH ${grantsOf(v.productId, v.units)}
    SELECT id FROM customer_order
    WHERE id IN (SELECT order_id FROM grants UNION ALL SELECT unnest(${[...(v.alsoLock ?? [])]}::bigint[]))
    ORDER BY id
    FOR UPDATE
  `.execute(tx.trx);
  const { rows } = await sql<Allocation>`
    WITH ${grantsOf(v.productId, v.units)}, served AS (
      UPDATE backorder b SET
        quantity_allocated = b.quantity_allocated + g.n,
        status = CASE WHEN b.quantity_allocated + g.n = b.quantity THEN 'ALLOCATED' ELSE 'PARTIALLY_ALLOCATED' END,
        updated_at = now()
      FROM grants g WHERE b.id = g.id
      RETURNING b.id, g.n, b.quantity_allocated, b.status
    ), lines AS (
      UPDATE order_line l SET quantity_allocated = l.quantity_allocated + g.n
      FROM grants g WHERE l.id = g.order_line_id
      RETURNING l.id
    ), orders AS (
      UPDATE customer_order o SET units_waiting = o.units_waiting - t.n, units_to_ship = o.units_to_ship + t.n
      FROM (SELECT order_id, sum(n)::int AS n FROM grants GROUP BY order_id) t
      WHERE o.id = t.order_id
      RETURNING o.id
    ), movements AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reference, actor)
      SELECT ${v.productId}, 'ALLOCATION', n, 'backorder:' || id, ${v.actor} FROM grants ORDER BY id
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

/**
 * Cancels a (locked) backorder and takes its released units off its line. The order's counters are left to
 * takeOffOrder, called once the order row may be locked (see allocateToQueue).
 */
export async function cancelBackorderRow(tx: WriteTx, b: BackorderRecord): Promise<CancelledBackorder> {
  const released = b.quantityAllocated - b.quantityShipped;
  const wasQueued = QUEUED.includes(b.status);
  const missing = wasQueued ? b.quantity - b.quantityAllocated : 0;
  await sql`
    WITH bo AS (
      UPDATE backorder SET status = 'CANCELLED', quantity_allocated = quantity_shipped, updated_at = now()
      WHERE id = ${b.id}
      RETURNING id
    )
    UPDATE order_line SET quantity_allocated = quantity_allocated - ${released}
    WHERE id = ${b.orderLineId}
  `.execute(tx.trx);
  return { released, missing, wasQueued };
}

/** Takes a cancelled backorder's missing and released units off its order's counters. */
export async function takeOffOrder(
  tx: WriteTx,
  orderId: number,
  cancelled: CancelledBackorder,
): Promise<void> {
  await sql`
    UPDATE customer_order SET
      units_waiting = units_waiting - ${cancelled.missing},
      units_to_ship = units_to_ship - ${cancelled.released}
    WHERE id = ${orderId}
  `.execute(tx.trx);
}
