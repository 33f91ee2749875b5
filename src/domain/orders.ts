import { createHash } from 'node:crypto';
import type { BackorderRecord, OrderLineRecord, OrderRecord } from '../db/records.ts';
import type { QueueRank } from '../db/repos/backorders.ts';
import { listOpenInbound } from '../db/repos/inbound.ts';
import {
  claimOrder,
  findLinesByOrderIds,
  findOrderByKey,
  lockOrder,
  type PlannedLine,
  refreshOrderOpen,
  shipOrderUnits,
  type WrittenLine,
  writeOrder,
} from '../db/repos/orders.ts';
import type { LockedStock } from '../db/repos/stock.ts';
import { applyStockDeltas, insertMovements, lockStock } from '../db/repos/stock.ts';
import type { Writer } from '../db/transaction.ts';
import { canBackorder } from './availability.ts';
import {
  IdempotencyConflictError,
  InsufficientStockError,
  NotFoundError,
  NothingToShipError,
} from './errors.ts';
import { estimateCoverage } from './eta.ts';
import { type OrderLineInput, planOrder } from './order-plan.ts';
import { toOpenInbound } from './readers.ts';
import type { Actor } from './types.ts';

export interface PlaceOrderInput {
  idempotencyKey: string;
  acceptBackorder: boolean;
  lines: OrderLineInput[];
}

/** Same lines in the same order and the same consent: the same request. */
export function requestHash(input: PlaceOrderInput): string {
  const canonical = JSON.stringify([
    input.acceptBackorder,
    input.lines.map((l) => [l.productId, l.quantity]),
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

export interface PlacedOrder {
  orderId: number;
  /**
   * The order as it was at commit, with where each backorder joined its queue (known exactly under the
   * lock): enough to answer the checkout without reading it back. None for a replay.
   */
  asCommitted?: {
    order: OrderRecord;
    lines: OrderLineRecord[];
    backorders: BackorderRecord[];
    joined: QueueRank[];
  };
}

/**
 * All lines or nothing. Transaction: claim the idempotency key (insert the order head), lock the products'
 * stock rows in id order, decide every line, write everything in one statement. A refusal rolls it all back.
 * A retry with the same key and input returns the first order.
 */
export async function placeOrder(
  writer: Writer,
  customer: Actor,
  input: PlaceOrderInput,
): Promise<PlacedOrder> {
  const hash = requestHash(input);
  return writer.run(async (tx) => {
    const claimed = await claimOrder(tx, {
      customerId: customer.id,
      idempotencyKey: input.idempotencyKey,
      requestHash: hash,
    });
    if (claimed === undefined) {
      const existing = await findOrderByKey(tx.trx, customer.id, input.idempotencyKey);
      if (!existing) throw new Error('idempotency key vanished after conflict');
      if (existing.requestHash !== hash) throw new IdempotencyConflictError();
      return { orderId: existing.id };
    }
    const locked = await lockStock(
      tx,
      input.lines.map((l) => l.productId),
    );
    const plan = planOrder(input.lines, input.acceptBackorder, locked);
    if ('refusal' in plan) {
      const refusal = plan.refusal;
      if (refusal.kind === 'error') throw refusal.error;
      const { product } = locked.get(refusal.productId)!;
      const { stock } = refusal;
      const inbound = (await listOpenInbound(tx.trx, [product.id])).map(toOpenInbound);
      // The date a backorder of the missing units would get; none when policy or cap would refuse it.
      const eta = canBackorder(product, stock, refusal.missing)
        ? estimateCoverage(
            stock.unitsOnBackorder + refusal.missing,
            inbound,
            product.restockLeadTimeDays,
            new Date(),
          )
        : null;
      throw new InsufficientStockError(product.id, refusal.available, eta);
    }
    const orderId = claimed.id;
    const written = await writeOrder(tx, { orderId, customerId: customer.id, lines: plan.lines });
    tx.touch(...plan.lines.map((l) => l.productId));
    return { orderId, asCommitted: describePlaced(customer, claimed, hash, plan.lines, written, locked) };
  });
}

/** The order as it stands at commit, built from what the transaction decided and the ids it drew. */
function describePlaced(
  customer: Actor,
  claimed: { id: number; createdAt: Date },
  requestHash: string,
  planned: readonly PlannedLine[],
  written: readonly WrittenLine[],
  locked: ReadonlyMap<number, LockedStock>,
): NonNullable<PlacedOrder['asCommitted']> {
  const lines: OrderLineRecord[] = [];
  const backorders: BackorderRecord[] = [];
  const joined: QueueRank[] = [];
  // Queue counters as each backorder found them: a product on several lines queues behind itself.
  const queues = new Map<number, { length: number; units: number }>();
  for (const w of written) {
    const line = planned[w.position]!;
    lines.push({
      id: w.lineId,
      orderId: claimed.id,
      position: line.position,
      productId: line.productId,
      quantity: line.quantity,
      quantityAllocated: line.taken,
      quantityShipped: 0,
    });
    if (w.backorderId === null) continue;
    backorders.push({
      id: w.backorderId,
      orderId: claimed.id,
      orderLineId: w.lineId,
      productId: line.productId,
      customerId: customer.id,
      quantity: line.rest,
      quantityAllocated: 0,
      quantityShipped: 0,
      status: 'WAITING',
      createdAt: w.backorderCreatedAt!,
    });
    // It joined the tail: everyone already queued is ahead of it.
    const { stock } = locked.get(line.productId)!;
    const queue = queues.get(line.productId) ?? { length: stock.queueLength, units: stock.unitsOnBackorder };
    joined.push({
      id: w.backorderId,
      productId: line.productId,
      position: queue.length + 1,
      unitsAhead: queue.units,
      missing: line.rest,
    });
    queues.set(line.productId, { length: queue.length + 1, units: queue.units + line.rest });
  }
  const order: OrderRecord = {
    id: claimed.id,
    customerId: customer.id,
    requestHash,
    status: backorders.length > 0 ? 'AWAITING_STOCK' : 'READY',
    createdAt: claimed.createdAt,
  };
  return { order, lines, backorders, joined };
}

/**
 * Every allocated, unshipped unit of the order leaves the warehouse: onHand and allocated drop together.
 * Locks the stock rows of the order's products (id order) before reading what there is to ship.
 */
export async function shipOrder(writer: Writer, actor: Actor, order: OrderRecord): Promise<void> {
  await writer.run(async (tx) => {
    const lines = await findLinesByOrderIds(tx.trx, [order.id]);
    if (lines.length === 0) throw new NotFoundError('Order');
    await lockStock(
      tx,
      lines.map((l) => l.productId),
    );
    await lockOrder(tx, order.id);
    const shipped = await shipOrderUnits(tx, order.id);
    if (shipped.length === 0) throw new NothingToShipError();
    await refreshOrderOpen(tx, order.id);
    await applyStockDeltas(
      tx,
      shipped.map((s) => ({ productId: s.productId, onHand: -s.units, allocated: -s.units })),
    );
    await insertMovements(
      tx,
      shipped.map((s) => ({
        productId: s.productId,
        kind: 'SHIPMENT' as const,
        quantity: -s.units,
        reference: `order:${order.id}`,
        actor: actor.id,
      })),
    );
    tx.touch(...shipped.map((s) => s.productId));
  });
}
