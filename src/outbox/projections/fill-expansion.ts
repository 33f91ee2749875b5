import { backordersOfFill } from '../../db/repos/backorders.ts';
import type { QueueFilled } from '../../domain/rules/domain-events.ts';
import type { Readers } from '../../read/readers.ts';

/** One backorder's share of a queue fill. */
export interface BackorderFilled {
  /** `<event seq>:<backorder id>`: the same however often, and by whichever instance, it is expanded. */
  id: string;
  backorderId: number;
  orderId: number;
  customerId: string;
  productId: number;
  /** Units this fill gave it. */
  units: number;
}

/**
 * Expands a fill, recorded as one compact event however many it served, into one entry per backorder, in
 * queue order. Only the head of a queue can be partly allocated, so every backorder but the first and the
 * last received its whole quantity. The backorders' rows are primed in `readers`, so their states cost no
 * second query.
 */
export async function expandFill(
  readers: Readers,
  seq: number,
  event: QueueFilled,
): Promise<BackorderFilled[]> {
  const rows = await backordersOfFill(readers.db, event);
  for (const row of rows) readers.backorder.prime(row.id, row);
  return rows.map((row) => ({
    id: `${seq}:${row.id}`,
    backorderId: row.id,
    orderId: row.orderId,
    customerId: row.customerId,
    productId: event.productId,
    units:
      row.id === event.toId ? event.lastUnits : row.id === event.fromId ? event.firstUnits : row.quantity,
  }));
}
