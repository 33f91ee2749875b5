import type { QueueRank } from '../db/repos/backorders.ts';
import type { PlacedOrder } from '../domain/orders.ts';
import type { BackorderRecord, OrderLineRecord, OrderRecord } from '../domain/rules/records.ts';
import { NEW_BACKORDER_STATUS, orderStatus, placeAtTail } from '../domain/rules/stock-rules.ts';
import type { Readers } from './readers.ts';

/**
 * Primes a request's readers with an order exactly as its checkout committed it, queue positions included
 * (known under the stock lock), so the confirmation is answered without reading it back.
 */
export function primePlacedOrder(readers: Readers, placed: PlacedOrder): void {
  const decided = placed.decided;
  if (!decided) return;
  const lines: OrderLineRecord[] = [];
  const backorders: BackorderRecord[] = [];
  const joined: QueueRank[] = [];
  // A product on several lines queues behind itself: count the queue as each backorder found it.
  const queues = new Map(decided.queues);
  for (const w of decided.written) {
    const line = decided.lines[w.position]!;
    lines.push({
      id: w.lineId,
      orderId: placed.orderId,
      position: line.position,
      productId: line.productId,
      quantity: line.quantity,
      quantityAllocated: line.taken,
      quantityShipped: 0,
    });
    if (w.backorderId === null) continue;
    const backorder: BackorderRecord = {
      id: w.backorderId,
      orderId: placed.orderId,
      orderLineId: w.lineId,
      productId: line.productId,
      customerId: decided.customerId,
      quantity: line.rest,
      quantityAllocated: 0,
      quantityShipped: 0,
      status: NEW_BACKORDER_STATUS,
      createdAt: w.backorderCreatedAt!,
    };
    backorders.push(backorder);
    const queue = queues.get(line.productId) ?? { length: 0, units: 0 };
    joined.push({ id: backorder.id, productId: line.productId, ...placeAtTail(queue, line.rest) });
    queues.set(line.productId, { length: queue.length + 1, units: queue.units + line.rest });
  }
  const order: OrderRecord = {
    id: placed.orderId,
    customerId: decided.customerId,
    requestHash: decided.requestHash,
    status: orderStatus({ open: true, waiting: backorders.length > 0, shipped: false }),
    createdAt: decided.createdAt,
  };
  readers.order.prime(order.id, order);
  readers.orderLines.prime(order.id, lines);
  for (const line of lines) {
    readers.backorderByLine.prime(line.id, backorders.find((b) => b.orderLineId === line.id) ?? null);
  }
  for (const backorder of backorders) readers.backorder.prime(backorder.id, backorder);
  for (const rank of joined) readers.queueRank.prime(rank.id, rank);
}
