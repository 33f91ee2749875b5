import { sql } from 'kysely';
import type { OrderLineRecord, OrderRecord, PageWindow } from '../records.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import type { OrderStatusValue } from '../types.ts';
import { keysetPage } from './keyset.ts';

const orderColumns = [
  'id',
  'customer_id as customerId',
  'request_hash as requestHash',
  'units_waiting as unitsWaiting',
  'units_to_ship as unitsToShip',
  'units_shipped as unitsShipped',
  'status',
  'created_at as createdAt',
] as const;

const lineColumns = [
  'id',
  'order_id as orderId',
  'position',
  'product_id as productId',
  'quantity',
  'quantity_allocated as quantityAllocated',
  'quantity_shipped as quantityShipped',
] as const;

/**
 * Claims an idempotency key by inserting the order head. A concurrent request with the same key waits on
 * the unique index until the first commits (then gets undefined) or rolls back (then claims it).
 */
export async function claimOrder(
  tx: WriteTx,
  v: { customerId: string; idempotencyKey: string; requestHash: string },
): Promise<number | undefined> {
  const row = await tx.trx
    .insertInto('customer_order')
    .values({ customer_id: v.customerId, idempotency_key: v.idempotencyKey, request_hash: v.requestHash })
    .onConflict((oc) => oc.columns(['customer_id', 'idempotency_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

export async function findOrderByKey(
  ex: Executor,
  customerId: string,
  idempotencyKey: string,
): Promise<OrderRecord | undefined> {
  return ex
    .selectFrom('customer_order')
    .select(orderColumns)
    .where('customer_id', '=', customerId)
    .where('idempotency_key', '=', idempotencyKey)
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

/**
 * Writes a whole order in one statement: its lines, the backorders for what stock could not cover, the
 * stock counters, the ALLOCATION movements and the order's unit counters. The stock rows must be locked.
 */
export async function writeOrder(
  tx: WriteTx,
  v: { orderId: number; customerId: string; lines: readonly PlannedLine[] },
): Promise<void> {
  const input = JSON.stringify(
    v.lines.map((l) => ({
      position: l.position,
      product_id: l.productId,
      quantity: l.quantity,
      taken: l.taken,
      rest: l.rest,
    })),
  );
  await sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${input}::jsonb)
        AS x(position int, product_id bigint, quantity int, taken int, rest int)
    ), lines AS (
      INSERT INTO order_line (order_id, position, product_id, quantity, quantity_allocated)
      SELECT ${v.orderId}, position, product_id, quantity, taken FROM input ORDER BY position
      RETURNING id, position
    ), backorders AS (
      -- Joining the queue happens now, under the stock lock, not when the transaction began: createdAt
      -- then follows queue order even when checkouts started together.
      INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity, created_at, updated_at)
      SELECT ${v.orderId}, l.id, i.product_id, ${v.customerId}, i.rest, clock_timestamp(), clock_timestamp()
      FROM input i JOIN lines l USING (position) WHERE i.rest > 0 ORDER BY i.position
      RETURNING id
    ), stock_update AS (
      UPDATE stock s SET
        allocated = s.allocated + i.taken,
        queue_length = s.queue_length + (i.rest > 0)::int,
        units_on_backorder = s.units_on_backorder + i.rest
      FROM input i WHERE s.product_id = i.product_id
      RETURNING s.product_id
    ), movements AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reference, actor)
      SELECT product_id, 'ALLOCATION', taken, 'order:' || ${v.orderId}, ${v.customerId}
      FROM input WHERE taken > 0
      RETURNING id
    )
    UPDATE customer_order SET
      units_waiting = (SELECT sum(rest) FROM input),
      units_to_ship = (SELECT sum(taken) FROM input)
    WHERE id = ${v.orderId}
  `.execute(tx.trx);
}

export async function findOrdersByIds(ex: Executor, ids: readonly number[]): Promise<OrderRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('customer_order')
    .select(orderColumns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export async function findLinesByOrderIds(
  ex: Executor,
  orderIds: readonly number[],
): Promise<OrderLineRecord[]> {
  if (orderIds.length === 0) return [];
  return ex
    .selectFrom('order_line')
    .select(lineColumns)
    .where('order_id', '=', (eb) => eb.fn.any(eb.val([...orderIds])))
    .orderBy('order_id')
    .orderBy('position')
    .execute();
}

/** A customer's orders, newest first. */
export async function listOrdersOfCustomer(
  ex: Executor,
  customerId: string,
  page: PageWindow<number>,
): Promise<OrderRecord[]> {
  return ex
    .selectFrom('customer_order')
    .select(orderColumns)
    .where('customer_id', '=', customerId)
    .$call(keysetPage(page, true))
    .execute();
}

/** Orders (of one status, or all), oldest first. */
export async function listOrders(
  ex: Executor,
  status: OrderStatusValue | null,
  page: PageWindow<number>,
): Promise<OrderRecord[]> {
  let q = ex.selectFrom('customer_order').select(orderColumns);
  if (status) q = q.where('status', '=', status);
  return q.$call(keysetPage(page, false)).execute();
}

export async function countOrders(ex: Executor, status: OrderStatusValue | null): Promise<number> {
  let q = ex.selectFrom('customer_order').select((eb) => eb.fn.countAll<string>().as('n'));
  if (status) q = q.where('status', '=', status);
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ShippedProduct {
  productId: number;
  units: number;
}

/**
 * Ships every allocated, unshipped unit of an order in one statement: lines, backorders and the order's
 * counters. Returns the units per product, for the stock counters and the ledger. Stock rows must be locked.
 */
export async function shipOrderUnits(tx: WriteTx, orderId: number): Promise<ShippedProduct[]> {
  const { rows } = await sql<ShippedProduct>`
    WITH lines AS (
      UPDATE order_line l SET quantity_shipped = l.quantity_allocated
      FROM order_line old
      WHERE l.id = old.id AND l.order_id = ${orderId} AND old.quantity_allocated > old.quantity_shipped
      RETURNING l.product_id, (old.quantity_allocated - old.quantity_shipped) AS units
    ), backorders AS (
      UPDATE backorder b SET
        quantity_shipped = b.quantity_allocated,
        status = CASE WHEN b.quantity_allocated = b.quantity AND b.status <> 'CANCELLED' THEN 'SHIPPED' ELSE b.status END,
        updated_at = now()
      WHERE b.order_id = ${orderId} AND b.quantity_allocated > b.quantity_shipped
      RETURNING b.id
    ), totals AS (
      SELECT product_id AS "productId", sum(units)::int AS units FROM lines GROUP BY product_id
    ), head AS (
      UPDATE customer_order SET
        units_shipped = units_shipped + (SELECT coalesce(sum(units), 0) FROM totals),
        units_to_ship = units_to_ship - (SELECT coalesce(sum(units), 0) FROM totals)
      WHERE id = ${orderId}
      RETURNING id
    )
    SELECT * FROM totals ORDER BY "productId"
  `.execute(tx.trx);
  return rows;
}
