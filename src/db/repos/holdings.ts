import { sql } from 'kysely';
import { cancelledSql } from '../../rules/stock-rules.ts';
import type { Executor } from '../transaction.ts';

/**
 * What one customer holds of each of these products: units on its order lines not yet shipped, less the
 * unshipped units of its cancelled backorders. Only open orders can hold units, so the count starts from
 * the customer's open orders (a partial index) and reads each one's lines of these products from the
 * index on (order_id, product_id). Callers hold the products' stock locks, so the count cannot move
 * under them.
 */
export async function unitsHeldByCustomer(
  ex: Executor,
  customerId: string,
  productIds: readonly number[],
): Promise<Map<number, number>> {
  const held = new Map<number, number>();
  if (productIds.length === 0) return held;
  const { rows } = await heldByCustomerSql(customerId, productIds).execute(ex);
  for (const r of rows) held.set(Number(r.productId), Number(r.units));
  return held;
}

/**
 * SQL: the count of unitsHeldByCustomer as rows ("productId", units), for a statement that counts it along
 * with its own work (the order's write: see writeOrderStatement). Products the customer holds none of have
 * no row.
 */
export function heldByCustomerSql(customerId: string, productIds: readonly number[]) {
  return sql<{ productId: number; units: string }>`
    SELECT l.product_id AS "productId",
      sum(l.quantity - l.quantity_shipped - coalesce(b.quantity - b.quantity_shipped, 0))::bigint AS units
    FROM customer_order o
    JOIN order_line l ON l.order_id = o.id AND l.product_id = ANY(${[...productIds]}::bigint[])
    LEFT JOIN backorder b ON b.order_line_id = l.id AND ${cancelledSql('b')}
    WHERE o.customer_id = ${customerId} AND o.open
    GROUP BY l.product_id
  `;
}
