import { sql } from 'kysely';
import { rankWholeQueue } from '../../src/db/repos/backorders.ts';
import { findOrdersByIds } from '../../src/db/repos/orders.ts';
import { ledgerTotals } from '../../src/db/repos/stock.ts';
import type { Executor } from '../../src/db/transaction.ts';

interface StockRow {
  productId: number;
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
}

interface BackorderRow {
  id: number;
  productId: number;
  orderId: number;
  status: string;
  quantity: number;
  quantityAllocated: number;
  quantityShipped: number;
}

const QUEUED = new Set(['WAITING', 'PARTIALLY_ALLOCATED']);

/** The status a backorder must have, given its units (a cancelled one keeps only what it shipped). */
function expectedStatus(b: BackorderRow): string | null {
  if (b.status === 'CANCELLED') return null;
  if (b.quantityAllocated === 0) return 'WAITING';
  if (b.quantityAllocated < b.quantity) return 'PARTIALLY_ALLOCATED';
  return b.quantityShipped === b.quantity ? 'SHIPPED' : 'ALLOCATED';
}

/**
 * Everything that must hold between the stock counters, the ledger, the queues, the order lines and the
 * orders of these products, recomputed from the rows. Returns one readable line per violation; [] when
 * the data is consistent.
 */
export async function checkInvariants(db: Executor, productIds: readonly number[]): Promise<string[]> {
  const ids = [...new Set(productIds)].sort((a, b) => a - b);
  if (ids.length === 0) return [];
  const violations: string[] = [];
  const fail = (message: string) => violations.push(message);

  const stocks = (
    await sql<StockRow>`
      SELECT product_id AS "productId", on_hand AS "onHand", allocated, queue_length AS "queueLength",
        units_on_backorder AS "unitsOnBackorder"
      FROM stock WHERE product_id = ANY(${ids}::bigint[]) ORDER BY product_id
    `.execute(db)
  ).rows;
  const lineTotals = new Map(
    (
      await sql<{ productId: number; unshipped: number }>`
        SELECT l.product_id AS "productId",
          coalesce(sum(l.quantity_taken + coalesce(b.quantity_allocated, 0) - l.quantity_shipped), 0)::int AS unshipped
        FROM order_line l LEFT JOIN backorder b ON b.order_line_id = l.id
        WHERE l.product_id = ANY(${ids}::bigint[]) GROUP BY l.product_id
      `.execute(db)
    ).rows.map((r) => [r.productId, r.unshipped]),
  );
  const backorders = (
    await sql<BackorderRow>`
      SELECT id, product_id AS "productId", order_id AS "orderId", status, quantity,
        quantity_allocated AS "quantityAllocated", quantity_shipped AS "quantityShipped"
      FROM backorder WHERE product_id = ANY(${ids}::bigint[]) ORDER BY product_id, id
    `.execute(db)
  ).rows;

  if (stocks.length !== ids.length) fail(`expected ${ids.length} stock rows, found ${stocks.length}`);

  for (const s of stocks) {
    const p = `product ${s.productId}`;
    if (s.allocated < 0 || s.allocated > s.onHand) {
      fail(`${p}: allocated ${s.allocated} outside 0..onHand ${s.onHand}`);
    }
    const ledger = await ledgerTotals(db, s.productId);
    if (ledger.onHand !== s.onHand || ledger.allocated !== s.allocated) {
      fail(
        `${p}: counters onHand=${s.onHand} allocated=${s.allocated} but ledger says onHand=${ledger.onHand} allocated=${ledger.allocated}`,
      );
    }
    const unshipped = lineTotals.get(s.productId) ?? 0;
    if (unshipped !== s.allocated) {
      fail(`${p}: allocated ${s.allocated} but order lines hold ${unshipped} allocated, unshipped units`);
    }

    const own = backorders.filter((b) => b.productId === s.productId);
    const queued = own.filter((b) => QUEUED.has(b.status));
    const missing = queued.reduce((sum, b) => sum + b.quantity - b.quantityAllocated, 0);
    if (s.queueLength !== queued.length || s.unitsOnBackorder !== missing) {
      fail(
        `${p}: queueLength=${s.queueLength} unitsOnBackorder=${s.unitsOnBackorder} but the queue holds ${queued.length} backorders missing ${missing} units`,
      );
    }
    const available = s.onHand - s.allocated;
    if (queued.length > 0 && available > 0) {
      fail(`${p}: ${available} units available while ${queued.length} backorders wait`);
    }

    for (const b of own) {
      const want = expectedStatus(b);
      if (want !== null && want !== b.status) {
        fail(
          `backorder ${b.id}: status ${b.status} but ${b.quantityAllocated}/${b.quantity} allocated, ${b.quantityShipped} shipped`,
        );
      }
      if (b.status === 'CANCELLED' && b.quantityAllocated !== b.quantityShipped) {
        fail(`backorder ${b.id}: cancelled but still holds ${b.quantityAllocated - b.quantityShipped} units`);
      }
    }

    // First come, first served: among the backorders never cancelled, in queue order, one that still misses
    // units may only be followed by backorders that have received nothing.
    let short: BackorderRow | undefined;
    for (const b of own) {
      if (b.status === 'CANCELLED') continue;
      if (short && b.quantityAllocated > 0) {
        fail(
          `${p}: backorder ${b.id} received ${b.quantityAllocated} units while the older backorder ${short.id} still misses ${short.quantity - short.quantityAllocated}`,
        );
      }
      if (!short && b.quantityAllocated < b.quantity) short = b;
    }

    const ranks = await rankWholeQueue(db, s.productId);
    const rankedIds = ranks.map((r) => r.id);
    const queuedIds = queued.map((b) => b.id);
    if (rankedIds.join() !== queuedIds.join()) {
      fail(
        `${p}: ranked queue [${rankedIds.join()}] is not the queued backorders in id order [${queuedIds.join()}]`,
      );
    }
    let ahead = 0;
    for (const [i, r] of ranks.entries()) {
      if (r.position !== i + 1) fail(`${p}: backorder ${r.id} at index ${i} has position ${r.position}`);
      if (r.unitsAhead !== ahead)
        fail(`${p}: backorder ${r.id} has unitsAhead ${r.unitsAhead}, expected ${ahead}`);
      ahead += r.missing;
    }
  }

  // Each line misses exactly what its backorder misses; the units the line took at once stay with it.
  const lines = (
    await sql<{ id: number; quantity: number; allocated: number; shipped: number; boMissing: number | null }>`
      SELECT l.id, l.quantity, l.quantity_taken + coalesce(b.quantity_allocated, 0) AS allocated,
        l.quantity_shipped AS shipped,
        b.quantity - b.quantity_allocated AS "boMissing"
      FROM order_line l LEFT JOIN backorder b ON b.order_line_id = l.id
      WHERE l.product_id = ANY(${ids}::bigint[])
      ORDER BY l.id
    `.execute(db)
  ).rows;
  for (const l of lines) {
    if (l.quantity - l.allocated !== (l.boMissing ?? 0)) {
      fail(
        `order line ${l.id}: misses ${l.quantity - l.allocated} of ${l.quantity} but its backorder misses ${l.boMissing ?? 'nothing'}`,
      );
    }
  }

  // An order is open exactly while something of it waits in a queue or remains to ship; its status follows.
  const orders = (
    await sql<{
      id: number;
      open: boolean;
      waiting: number;
      toShip: number;
      shipped: number;
      status: string;
    }>`
      WITH touched AS (
        SELECT DISTINCT order_id FROM order_line WHERE product_id = ANY(${ids}::bigint[])
      ), l AS (
        SELECT l.order_id,
          sum(l.quantity_taken + coalesce(b.quantity_allocated, 0) - l.quantity_shipped)::int AS to_ship,
          sum(l.quantity_shipped)::int AS shipped,
          coalesce(sum(b.quantity - b.quantity_allocated)
            FILTER (WHERE b.status IN ('WAITING', 'PARTIALLY_ALLOCATED')), 0)::int AS waiting
        FROM order_line l LEFT JOIN backorder b ON b.order_line_id = l.id
        WHERE l.order_id IN (SELECT order_id FROM touched) GROUP BY l.order_id
      )
      SELECT o.id, o.open, l.waiting, l.to_ship AS "toShip", l.shipped
      FROM customer_order o JOIN l ON l.order_id = o.id
      ORDER BY o.id
    `.execute(db)
  ).rows;
  const statuses = new Map(
    (
      await findOrdersByIds(
        db,
        orders.map((o) => o.id),
      )
    ).map((o) => [o.id, o.status]),
  );
  for (const o of orders) {
    if (o.open !== (o.waiting > 0 || o.toShip > 0)) {
      fail(`order ${o.id}: open=${o.open} but waiting=${o.waiting} toShip=${o.toShip}`);
    }
    const expected =
      o.waiting > 0 ? 'AWAITING_STOCK' : o.toShip > 0 ? 'READY' : o.shipped > 0 ? 'SHIPPED' : 'CANCELLED';
    if (statuses.get(o.id) !== expected) {
      fail(
        `order ${o.id}: status ${statuses.get(o.id)}, expected ${expected} (waiting=${o.waiting} toShip=${o.toShip} shipped=${o.shipped})`,
      );
    }
  }

  return violations;
}
