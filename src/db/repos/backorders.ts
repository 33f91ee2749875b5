import { type RawBuilder, sql } from 'kysely';
import type { QueueFilled } from '../../domain/rules/domain-events.ts';
import type { BackorderRecord, BackorderStatusValue, PageWindow } from '../../domain/rules/records.ts';
import {
  CANCELLED_BACKORDER_STATUS,
  counterSetSql,
  FILL_MOVEMENT,
  filledSql,
  fillQueueSetSql,
  missingSql,
  queued,
  queuePositionSql,
  queueWindowSql,
  statusAfterAllocationSql,
  unitsAheadSql,
} from '../../domain/rules/stock-rules.ts';
import type { Executor, WriteTx } from '../transaction.ts';
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
      WHERE id = ANY(${[...ids]}::bigint[]) AND ${queued()}
      GROUP BY product_id
    ), ranked AS (
      SELECT b.id, b.product_id,
        ${queuePositionSql()} AS position,
        ${unitsAheadSql('b')} AS units_ahead,
        ${missingSql('b')} AS missing
      FROM wanted
      JOIN backorder b ON b.product_id = wanted.product_id AND b.id <= wanted.max_id
        AND ${queued('b')}
      WINDOW w AS ${queueWindowSql('b', true)}
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
      (${queuePositionSql()})::int AS position,
      (${unitsAheadSql()})::int AS "unitsAhead",
      ${missingSql()} AS missing
    FROM backorder
    WHERE product_id = ${productId} AND ${queued()}
    WINDOW w AS ${queueWindowSql()}
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

export interface Fill {
  /** The ALLOCATION movement that records the fill, and that each backorder served remembers. */
  movementId: number;
  allocations: Allocation[];
}

/**
 * Hands `units` to the head of a product's queue in queue order, partly filling the last one served, in one
 * set-based statement that writes only that product's backorder rows, one ALLOCATION movement and the
 * stock counters (who got what stays on the backorders, which remember the fill: the ledger needs the sum,
 * and a row per backorder doubled the work). The caller holds the product's stock row lock, which guards
 * its backorders. Lines and orders are not written: what a line received is derived from its backorder.
 */
export async function allocateToQueue(
  tx: WriteTx,
  v: { productId: number; units: number; actor: string },
): Promise<Fill | null> {
  const allocated = sql.raw('b.quantity_allocated + g.n') as RawBuilder<number>;
  const { rows } = await sql<Allocation & { movementId: number }>`
    WITH queue AS (
      SELECT id, ${missingSql()} AS missing,
        sum(${missingSql()}) OVER ${queueWindowSql()} AS through
      FROM backorder
      WHERE product_id = ${v.productId} AND ${queued()}
    ), grants AS (
      SELECT id, LEAST(missing, ${v.units} - (through - missing))::int AS n
      FROM queue WHERE through - missing < ${v.units}
    ), movement AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reason, reference, actor)
      SELECT ${v.productId}, ${sql.lit(FILL_MOVEMENT)}, sum(n), 'served ' || count(*) || ' backorder(s) in queue order',
        'queue', ${v.actor}
      FROM grants HAVING sum(n) > 0
      RETURNING id
    ), served AS (
      UPDATE backorder b SET
        quantity_allocated = ${allocated},
        status = ${statusAfterAllocationSql(sql.raw('b.quantity') as RawBuilder<number>, allocated)},
        last_fill = m.id,
        updated_at = now()
      FROM grants g, movement m WHERE b.id = g.id
      RETURNING b.id, g.n, b.quantity_allocated, b.status, m.id AS movement_id
    ), counters AS (
      -- The ALLOCATION moves 'allocated'; the backorders it completed leave the queue.
      UPDATE stock SET
        ${counterSetSql(FILL_MOVEMENT, sql.raw('f.units'))},
        ${fillQueueSetSql({ completed: sql.raw('f.completed'), units: sql.raw('f.units') })}
      FROM (SELECT sum(n)::int AS units, (count(*) FILTER (WHERE ${filledSql()}))::int AS completed
            FROM served) f
      WHERE product_id = ${v.productId} AND f.units > 0
      RETURNING product_id
    )
    SELECT id AS "backorderId", n AS quantity, quantity_allocated AS "quantityAllocated", status,
      movement_id AS "movementId"
    FROM served ORDER BY id
  `.execute(tx.trx);
  if (rows.length === 0) return null;
  return {
    movementId: rows[0]!.movementId,
    allocations: rows.map(({ movementId: _, ...a }) => a),
  };
}

/** The backorders one fill served, with what each received: the per-backorder view of a QueueFilled event. */
export async function backordersOfFill(
  ex: Executor,
  v: Pick<QueueFilled, 'productId' | 'fill' | 'fromId' | 'toId'>,
): Promise<BackorderRecord[]> {
  return ex
    .selectFrom('backorder')
    .select(columns)
    .where('product_id', '=', v.productId)
    .where('id', '>=', v.fromId)
    .where('id', '<=', v.toId)
    .where((eb) => eb.or([eb('last_fill', '=', v.fill), eb('id', '=', v.toId)]))
    .orderBy('id')
    .execute();
}

/** Cancels a (locked) backorder: it leaves the queue and keeps only the units already shipped. */
export async function cancelBackorderRow(tx: WriteTx, b: BackorderRecord): Promise<void> {
  await tx.trx
    .updateTable('backorder')
    .set((eb) => ({
      status: CANCELLED_BACKORDER_STATUS,
      quantity_allocated: eb.ref('quantity_shipped'),
      updated_at: new Date(),
    }))
    .where('id', '=', b.id)
    .execute();
}
