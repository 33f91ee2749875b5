import { createHash } from 'node:crypto';
import { unitsHeldByCustomer } from '../db/repos/holdings.ts';
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
import { applyStockChanges, lockStock } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { canBackorder } from './availability.ts';
import {
  CustomerLimitError,
  IdempotencyConflictError,
  InsufficientStockError,
  NotFoundError,
  NothingToShipError,
} from './errors.ts';
import { type OrderLineInput, planOrder } from './order-plan.ts';
import { recordCrossing } from './queue.ts';
import { estimateCoverage, toOpenInbound } from './rules/eta.ts';
import type { OrderRecord } from './rules/records.ts';
import { customerCapBreach, customerCapInForce, MAX_PER_CUSTOMER_DEFAULT } from './rules/stock-rules.ts';
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

/**
 * What a checkout decided and wrote, as known under the locks: enough for a reader to describe the order
 * exactly as committed (queue positions included) without reading it back.
 */
export interface PlacedOrder {
  orderId: number;
  /** None for an idempotent replay: that order is read as it is now. */
  decided?: {
    customerId: string;
    requestHash: string;
    createdAt: Date;
    lines: PlannedLine[];
    written: WrittenLine[];
    /** Each product's queue (length, missing units) as the order found it. */
    queues: Map<number, { length: number; units: number }>;
  };
}

/**
 * All lines or nothing. Claims the idempotency key (inserts the order head), locks the products' stock rows
 * in id order, decides every line, writes everything in one statement. A refusal throws, and the caller's
 * transaction rolls it all back. A retry with the same key and input returns the first order.
 *
 * `maxPerCustomerDefault` is the setting MAX_PER_CUSTOMER_DEFAULT: the per-customer cap of a product
 * without one of its own (0: none).
 */
export async function placeOrder(
  tx: WriteTx,
  customer: Actor,
  input: PlaceOrderInput,
  maxPerCustomerDefault: number = MAX_PER_CUSTOMER_DEFAULT,
): Promise<PlacedOrder> {
  const hash = requestHash(input);
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
  const caps = capsInForce(locked, maxPerCustomerDefault);
  const plan = planOrder(input.lines, input.acceptBackorder, locked);
  if ('refusal' in plan) {
    // The caps come before stock, policy and backorder limit: an order refused for those counts what the
    // customer holds here (the one path where the count is a statement of its own).
    if (caps.size > 0)
      refuseOverCap(input.lines, caps, await unitsHeldByCustomer(tx.trx, customer.id, [...caps.keys()]));
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
  const { lines: written, held } = await writeOrder(tx, {
    orderId: claimed.id,
    customerId: customer.id,
    lines: plan.lines,
    heldOf: [...caps.keys()],
  });
  // What the customer held before this order was counted by the write itself, under the same locks: past
  // a cap, the refusal rolls the write back with the rest of the transaction.
  refuseOverCap(input.lines, caps, held);
  tx.record({
    type: 'OrderPlaced',
    orderId: claimed.id,
    customerId: customer.id,
    productIds: [...new Set(plan.lines.map((l) => l.productId))],
    taken: plan.lines.reduce((sum, l) => sum + l.taken, 0),
    backorders: written.flatMap((w) =>
      w.backorderId === null
        ? []
        : [
            {
              id: w.backorderId,
              productId: plan.lines[w.position]!.productId,
              quantity: plan.lines[w.position]!.rest,
            },
          ],
    ),
  });
  const queues = new Map<number, { length: number; units: number }>();
  for (const [id, entry] of locked) {
    const { stock } = entry;
    queues.set(id, { length: stock.queueLength, units: stock.unitsOnBackorder });
    const taken = plan.lines.reduce((sum, l) => (l.productId === id ? sum + l.taken : sum), 0);
    if (taken > 0)
      await recordCrossing(tx, entry, { onHand: stock.onHand, allocated: stock.allocated + taken });
  }
  return {
    orderId: claimed.id,
    decided: {
      customerId: customer.id,
      requestHash: hash,
      createdAt: claimed.createdAt,
      lines: plan.lines,
      written,
      queues,
    },
  };
}

/**
 * The per-customer cap in force on each locked product that has one: its own, else the service-wide
 * default. What the customer holds is counted under the stock locks taken for the order: another order of
 * this customer for these products waits for them, so parallel orders never pass a cap together.
 */
function capsInForce(
  locked: ReadonlyMap<number, { product: { maxPerCustomer: number | null } }>,
  maxPerCustomerDefault: number,
): Map<number, number> {
  const caps = new Map<number, number>();
  for (const [id, { product }] of locked) {
    const cap = customerCapInForce(product.maxPerCustomer, maxPerCustomerDefault);
    if (cap !== null) caps.set(id, cap);
  }
  return caps;
}

/** Refuses the order for the first capped product (input order) it would take the customer past. */
function refuseOverCap(
  lines: readonly OrderLineInput[],
  caps: ReadonlyMap<number, number>,
  held: ReadonlyMap<number, number>,
): void {
  const breach = customerCapBreach(lines, caps, held);
  if (breach) throw new CustomerLimitError(breach.productId, breach.limit, breach.remaining);
}

/**
 * Every allocated, unshipped unit of the order leaves the warehouse: onHand and allocated drop together.
 * Locks the stock rows of the order's products (id order) before reading what there is to ship.
 */
export async function shipOrder(tx: WriteTx, actor: Actor, order: OrderRecord): Promise<void> {
  const lines = await findLinesByOrderIds(tx.trx, [order.id]);
  if (lines.length === 0) throw new NotFoundError('Order');
  await lockStock(
    tx,
    lines.map((l) => l.productId),
  );
  await lockOrder(tx, order.id);
  const { products: shipped, backorders } = await shipOrderUnits(tx, order.id);
  if (shipped.length === 0) throw new NothingToShipError();
  await refreshOrderOpen(tx, order.id);
  await applyStockChanges(
    tx,
    shipped.map((s) => {
      const movements = [
        {
          productId: s.productId,
          kind: 'SHIPMENT' as const,
          quantity: -s.units,
          reference: `order:${order.id}`,
          actor: actor.id,
        },
      ];
      return { productId: s.productId, movements };
    }),
  );
  tx.record({ type: 'OrderShipped', orderId: order.id, customerId: order.customerId, shipped, backorders });
}
