import { sql } from 'kysely';
import type {
  OrderLineRecord,
  OrderRecord,
  OrderStatusValue,
  PageWindow,
} from '../../domain/rules/records.ts';
import {
  CHECKOUT_MOVEMENT,
  checkoutQueueSetSql,
  counterSetSql,
  heldByCustomerSql,
  orderHasStatus,
  orderStatusSql,
  orderStillOpenSql,
  statusAfterShippingSql,
} from '../../domain/rules/stock-rules.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import { keysetPage } from './keyset.ts';

const orderColumns = [
  'o.id',
  'o.customer_id as customerId',
  'o.request_hash as requestHash',
  orderStatusSql.as('status'),
  'o.created_at as createdAt',
] as const;

/**
 * Claims an idempotency key by inserting the order head. A concurrent request with the same key waits on
 * the unique index until the first commits (then gets undefined) or rolls back (then claims it).
 */
export async function claimOrder(
  tx: WriteTx,
  v: { customerId: string; idempotencyKey: string; requestHash: string },
): Promise<{ id: number; createdAt: Date } | undefined> {
  return tx.trx
    .insertInto('customer_order')
    .values({ customer_id: v.customerId, idempotency_key: v.idempotencyKey, request_hash: v.requestHash })
    .onConflict((oc) => oc.columns(['customer_id', 'idempotency_key']).doNothing())
    .returning(['id', 'created_at as createdAt'])
    .executeTakeFirst();
}

export async function findOrderByKey(
  ex: Executor,
  customerId: string,
  idempotencyKey: string,
): Promise<OrderRecord | undefined> {
  return ex
    .selectFrom('customer_order as o')
    .select(orderColumns)
    .where('o.customer_id', '=', customerId)
    .where('o.idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
}

export interface PlannedLine {
  position: number;
  productId: number;
  quantity: number;
  /** Units allocated from stock at once. */
  taken: number;
  /** Units that join the product's queue as a backorder. */
  rest: number;
}

export interface WrittenLine {
  lineId: number;
  position: number;
  backorderId: number | null;
  backorderCreatedAt: Date | null;
}

/**
 * Writes a whole order in one statement: its lines, the backorders for what stock could not cover, the
 * stock counters and the ALLOCATION movements. The stock rows must be locked. Returns the ids it drew and,
 * for the products of `heldOf`, what the customer held of them before this order (unitsHeldByCustomer, for
 * the per-customer caps), counted by the same statement under the same locks: no round trip of its own.
 */
export async function writeOrder(
  tx: WriteTx,
  v: { orderId: number; customerId: string; lines: readonly PlannedLine[]; heldOf?: readonly number[] },
): Promise<{ lines: WrittenLine[]; held: Map<number, number> }> {
  const { rows } = await writeOrderStatement(v).execute(tx.trx);
  const held = new Map<number, number>();
  for (const [productId, units] of Object.entries(rows[0]?.held ?? {}))
    held.set(Number(productId), Number(units));
  return {
    lines: rows.map((r) => ({
      lineId: r.lineId,
      position: r.position,
      backorderId: r.backorderId,
      backorderCreatedAt: r.backorderCreatedAt,
    })),
    held,
  };
}

/** The statement itself, exported so that a benchmark can run the very same SQL on a bare connection. */
export function writeOrderStatement(v: {
  orderId: number;
  customerId: string;
  lines: readonly PlannedLine[];
  heldOf?: readonly number[];
}) {
  const input = JSON.stringify(
    v.lines.map((l) => ({
      position: l.position,
      product_id: l.productId,
      quantity: l.quantity,
      taken: l.taken,
      rest: l.rest,
    })),
  );
  // Every part of the statement reads the snapshot it started with, taken once the stock rows were locked:
  // the count sees every earlier order of the customer for these products, and none of this order's lines.
  const held = v.heldOf?.length
    ? sql<Record<string, number>>`(SELECT jsonb_object_agg(h."productId", h.units)
        FROM (${heldByCustomerSql(v.customerId, v.heldOf)}) h)`
    : sql<null>`NULL::jsonb`;
  return sql<WrittenLine & { held: Record<string, number> | null }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${input}::jsonb)
        AS x(position int, product_id bigint, quantity int, taken int, rest int)
    ), lines AS (
      INSERT INTO order_line (order_id, position, product_id, quantity, quantity_taken)
      SELECT ${v.orderId}, position, product_id, quantity, taken FROM input ORDER BY position
      RETURNING id, position
    ), backorders AS (
      -- Joining the queue happens now, under the stock lock, not when the transaction began: createdAt
      -- then follows queue order even when checkouts started together.
      INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity, created_at, updated_at)
      SELECT ${v.orderId}, l.id, i.product_id, ${v.customerId}, i.rest, clock_timestamp(), clock_timestamp()
      FROM input i JOIN lines l USING (position) WHERE i.rest > 0 ORDER BY i.position
      RETURNING id, order_line_id, created_at
    ), stock_update AS (
      UPDATE stock s SET
        ${counterSetSql(CHECKOUT_MOVEMENT, sql.raw('i.taken'), 's')},
        ${checkoutQueueSetSql({ queued: sql.raw('i.queued'), rest: sql.raw('i.rest') }, 's')}
      FROM (
        SELECT product_id, sum(taken)::int AS taken, count(*) FILTER (WHERE rest > 0)::int AS queued,
          sum(rest)::int AS rest
        FROM input GROUP BY product_id
      ) i
      WHERE s.product_id = i.product_id
      RETURNING s.product_id
    ), movements AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reference, actor)
      SELECT product_id, ${sql.lit(CHECKOUT_MOVEMENT)}, taken, 'order:' || ${v.orderId}, ${v.customerId}
      FROM input WHERE taken > 0
      RETURNING id
    )
    SELECT l.id AS "lineId", l.position, b.id AS "backorderId", b.created_at AS "backorderCreatedAt",
      ${held} AS held
    FROM lines l LEFT JOIN backorders b ON b.order_line_id = l.id
    ORDER BY l.position
  `;
}

export async function findOrdersByIds(ex: Executor, ids: readonly number[]): Promise<OrderRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('customer_order as o')
    .select(orderColumns)
    .where('o.id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export async function findLinesByOrderIds(
  ex: Executor,
  orderIds: readonly number[],
): Promise<OrderLineRecord[]> {
  if (orderIds.length === 0) return [];
  return ex
    .selectFrom('order_line as l')
    .leftJoin('backorder as b', 'b.order_line_id', 'l.id')
    .select([
      'l.id',
      'l.order_id as orderId',
      'l.position',
      'l.product_id as productId',
      'l.quantity',
      sql<number>`l.quantity_taken + coalesce(b.quantity_allocated, 0)`.as('quantityAllocated'),
      'l.quantity_shipped as quantityShipped',
    ])
    .where('l.order_id', '=', (eb) => eb.fn.any(eb.val([...orderIds])))
    .orderBy('l.order_id')
    .orderBy('l.position')
    .execute();
}

/** A customer's orders, newest first. */
export async function listOrdersOfCustomer(
  ex: Executor,
  customerId: string,
  page: PageWindow<number>,
): Promise<OrderRecord[]> {
  return ex
    .selectFrom('customer_order as o')
    .select(orderColumns)
    .where('o.customer_id', '=', customerId)
    .$call(keysetPage(page, true, 'o.id'))
    .execute();
}

/** Orders (of one status, or all), oldest first. */
export async function listOrders(
  ex: Executor,
  status: OrderStatusValue | null,
  page: PageWindow<number>,
): Promise<OrderRecord[]> {
  let q = ex.selectFrom('customer_order as o').select(orderColumns);
  if (status) q = q.where(orderHasStatus(status));
  return q.$call(keysetPage(page, false, 'o.id')).execute();
}

export async function countOrders(ex: Executor, status: OrderStatusValue | null): Promise<number> {
  let q = ex.selectFrom('customer_order as o').select((eb) => eb.fn.countAll<string>().as('n'));
  if (status) q = q.where(orderHasStatus(status));
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ShippedProduct {
  productId: number;
  units: number;
}

export interface ShippedUnits {
  products: ShippedProduct[];
  /** Backorders that shipped units now; complete: all of theirs have shipped. */
  backorders: { id: number; productId: number; complete: boolean }[];
}

/**
 * Ships every allocated, unshipped unit of an order in one statement: lines and backorders. Returns the
 * units per product, for the stock counters and the ledger. The stock rows and the order row must be locked.
 */
export async function shipOrderUnits(tx: WriteTx, orderId: number): Promise<ShippedUnits> {
  const { rows } = await sql<{
    products: ShippedProduct[] | null;
    backorders: ShippedUnits['backorders'] | null;
  }>`
    WITH due AS (
      SELECT l.id, l.product_id, l.quantity_taken + coalesce(b.quantity_allocated, 0) AS allocated,
        l.quantity_shipped AS shipped
      FROM order_line l LEFT JOIN backorder b ON b.order_line_id = l.id
      WHERE l.order_id = ${orderId}
    ), lines AS (
      UPDATE order_line l SET quantity_shipped = due.allocated
      FROM due WHERE l.id = due.id AND due.allocated > due.shipped
      RETURNING l.product_id, due.allocated - due.shipped AS units
    ), backorders AS (
      UPDATE backorder b SET
        quantity_shipped = b.quantity_allocated,
        status = ${statusAfterShippingSql('b')},
        updated_at = now()
      WHERE b.order_id = ${orderId} AND b.quantity_allocated > b.quantity_shipped
      RETURNING b.id, b.product_id, b.quantity_allocated = b.quantity AS complete
    ), per_product AS (
      SELECT product_id, sum(units)::int AS units FROM lines GROUP BY product_id
    )
    SELECT
      (SELECT json_agg(json_build_object('productId', product_id, 'units', units) ORDER BY product_id)
         FROM per_product) AS products,
      (SELECT json_agg(json_build_object('id', id, 'productId', product_id, 'complete', complete) ORDER BY id)
         FROM backorders) AS backorders
  `.execute(tx.trx);
  return { products: rows[0]?.products ?? [], backorders: rows[0]?.backorders ?? [] };
}

/** Locks an order's row: ship and cancel take it after the stock rows, so they see each other's changes. */
export async function lockOrder(tx: WriteTx, orderId: number): Promise<void> {
  await tx.trx.selectFrom('customer_order').select('id').where('id', '=', orderId).forUpdate().execute();
}

/** Recomputes whether anything of the order still waits or remains to ship. The order row must be locked. */
export async function refreshOrderOpen(tx: WriteTx, orderId: number): Promise<void> {
  await sql`UPDATE customer_order o SET open = ${orderStillOpenSql} WHERE o.id = ${orderId}`.execute(tx.trx);
}
