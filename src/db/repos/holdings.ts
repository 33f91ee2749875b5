import { heldByCustomerSql } from '../../domain/rules/stock-rules.ts';
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
