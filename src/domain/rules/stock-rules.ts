import { type RawBuilder, sql } from 'kysely';

/**
 * The stock rules, in one place, as TypeScript for decisions made in memory and as SQL fragments for the
 * statements that decide set-wise. Every path (checkout, fills, cancels, shipping, reads) uses these, so
 * a new backorder status is one enum value, one rule here and one migration.
 *
 * This module sits below the database layer: it knows column names, never connections.
 */

export const BACKORDER_STATUSES = [
  'WAITING',
  'PARTIALLY_ALLOCATED',
  'ALLOCATED',
  'SHIPPED',
  'CANCELLED',
] as const;
export type BackorderStatus = (typeof BACKORDER_STATUSES)[number];

export const ORDER_STATUSES = ['AWAITING_STOCK', 'READY', 'SHIPPED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const MOVEMENT_KINDS = ['RECEIPT', 'ADJUSTMENT', 'ALLOCATION', 'RELEASE', 'SHIPMENT'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

// ---- Queue membership -------------------------------------------------------------------------------

/** A backorder is in its product's queue while it still misses units. */
export const QUEUED_STATUSES = [
  'WAITING',
  'PARTIALLY_ALLOCATED',
] as const satisfies readonly BackorderStatus[];

export function isQueued(status: BackorderStatus): boolean {
  return (QUEUED_STATUSES as readonly BackorderStatus[]).includes(status);
}

const quoted = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const prefix = (alias?: string) => (alias ? `${alias}.` : '');

/**
 * SQL: the backorder (optionally through a table alias) is in its product's queue. The partial indexes on
 * the queue are declared with this very predicate (a test compares them), so the planner can use them.
 */
export function queued(alias?: string): RawBuilder<boolean> {
  return sql.raw(`${prefix(alias)}status IN (${quoted(QUEUED_STATUSES)})`);
}

/** The units a backorder still misses: its place in the queue's unit count. */
export function missingUnits(b: { quantity: number; quantityAllocated: number }): number {
  return b.quantity - b.quantityAllocated;
}

/** SQL: missingUnits over the backorder (optionally through a table alias). */
export function missingSql(alias?: string): RawBuilder<number> {
  return sql.raw(`${prefix(alias)}quantity - ${prefix(alias)}quantity_allocated`);
}

// ---- Queue order and rank ---------------------------------------------------------------------------

/** Where a queued backorder stands: its 1-based position and the units still missed ahead of it. */
export interface QueuePlace {
  position: number;
  unitsAhead: number;
  missing: number;
}

/**
 * The queue is served in backorder id order (ids follow the moment each joined, under the stock lock).
 * SQL: the window of that order, over one product's queue or partitioned by product.
 */
export function queueWindowSql(alias?: string, byProduct = false): RawBuilder<unknown> {
  const partition = byProduct ? `PARTITION BY ${prefix(alias)}product_id ` : '';
  return sql.raw(`(${partition}ORDER BY ${prefix(alias)}id)`);
}

/** SQL: a queued backorder's position over the queue window named `window`. */
export function queuePositionSql(window = 'w'): RawBuilder<number> {
  return sql.raw(`row_number() OVER ${window}`);
}

/** SQL: the units missed ahead of a queued backorder over the queue window named `window`. */
export function unitsAheadSql(alias?: string, window = 'w'): RawBuilder<number> {
  const missing = missingSql(alias);
  return sql<number>`(sum(${missing}) OVER ${sql.raw(window)}) - (${missing})`;
}

/** The places of a queue's backorders, given in queue order (what queuePositionSql/unitsAheadSql compute). */
export function rankQueue<T extends { quantity: number; quantityAllocated: number }>(
  queue: readonly T[],
): QueuePlace[] {
  let unitsAhead = 0;
  return queue.map((b, i) => {
    const missing = missingUnits(b);
    const place = { position: i + 1, unitsAhead, missing };
    unitsAhead += missing;
    return place;
  });
}

/** The place of a backorder joining the tail of a queue: everyone already queued is ahead of it. */
export function placeAtTail(queue: { length: number; units: number }, missing: number): QueuePlace {
  return { position: queue.length + 1, unitsAhead: queue.units, missing };
}

// ---- Units go to the queue first --------------------------------------------------------------------

/** Units a new order may take now: none while anyone waits, since the queue is served first. */
export function unitsForNewOrders(stock: { onHand: number; allocated: number; queueLength: number }): number {
  return stock.queueLength > 0 ? 0 : availableUnits(stock);
}

/** Units owed to the queue now: whatever is available, up to what the queue still misses. */
export function unitsForQueue(stock: {
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
}): number {
  return stock.queueLength > 0 ? Math.min(availableUnits(stock), stock.unitsOnBackorder) : 0;
}

// ---- Backorder status -------------------------------------------------------------------------------

/** A backorder joins its queue waiting (the column's default). */
export const NEW_BACKORDER_STATUS = 'WAITING' satisfies BackorderStatus;

/** Every unit allocated: the backorder left the queue and waits only to ship. */
export const FILLED_BACKORDER_STATUS = 'ALLOCATED' satisfies BackorderStatus;

/** A cancelled backorder: final, out of the queue, it keeps only what already shipped. */
export const CANCELLED_BACKORDER_STATUS = 'CANCELLED' satisfies BackorderStatus;

/** SQL: the backorder (optionally through a table alias) is cancelled. */
export function cancelledSql(alias?: string): RawBuilder<boolean> {
  return sql.raw(`${prefix(alias)}status = '${CANCELLED_BACKORDER_STATUS}'`);
}

export function isFilled(status: BackorderStatus): boolean {
  return status === FILLED_BACKORDER_STATUS;
}

/** SQL: isFilled over the backorder (optionally through a table alias). */
export function filledSql(alias?: string): RawBuilder<boolean> {
  return sql.raw(`${prefix(alias)}status = '${FILLED_BACKORDER_STATUS}'`);
}

/**
 * Whether the `index`-th of the `served` backorders a fill handed units to (in queue order) is now filled:
 * the fill runs through all but the last one, which it completes only if it completed every one it served.
 */
export function fillCompletes(
  index: number,
  served: number,
  fill: { backorders: number; completed: number },
): boolean {
  return index < served - 1 || fill.completed === fill.backorders;
}

/** A queued backorder after an allocation, over column expressions: complete, or still partly waiting. */
export function statusAfterAllocationSql(quantity: RawBuilder<number>, allocated: RawBuilder<number>) {
  return sql<BackorderStatus>`CASE WHEN ${allocated} >= ${quantity} THEN 'ALLOCATED'
    WHEN ${allocated} > 0 THEN 'PARTIALLY_ALLOCATED' ELSE 'WAITING' END`;
}

/**
 * SQL: a backorder's status once its allocated units have shipped. Fully allocated: SHIPPED. A
 * cancelled one keeps its status; one still waiting keeps waiting for the rest.
 */
export function statusAfterShippingSql(alias: string) {
  return sql.raw(
    `CASE WHEN ${alias}.quantity_allocated = ${alias}.quantity AND ${alias}.status <> 'CANCELLED' ` +
      `THEN 'SHIPPED' ELSE ${alias}.status END`,
  ) as RawBuilder<BackorderStatus>;
}

/** Shipped and cancelled backorders are final. */
export function canCancel(status: BackorderStatus): boolean {
  return status !== 'SHIPPED' && status !== 'CANCELLED';
}

export interface CancelEffect {
  /** Allocated, unshipped units handed back (to the queue, then to stock). */
  released: number;
  /** Units it still missed: they leave the product's backorder total. */
  missing: number;
  /** Whether it left the queue (and so the queue's length). */
  leftQueue: boolean;
}

/** What cancelling a backorder gives back. It keeps only units already shipped. */
export function cancelEffect(b: {
  status: BackorderStatus;
  quantity: number;
  quantityAllocated: number;
  quantityShipped: number;
}): CancelEffect {
  const leftQueue = isQueued(b.status);
  return {
    released: b.quantityAllocated - b.quantityShipped,
    missing: leftQueue ? missingUnits(b) : 0,
    leftQueue,
  };
}

// ---- Order status -----------------------------------------------------------------------------------

/**
 * An order's status: AWAITING_STOCK while any of its units waits in a queue; else READY while allocated
 * units remain to ship (`open`); else SHIPPED if anything shipped, CANCELLED if nothing did.
 */
export function orderStatus(o: { open: boolean; waiting: boolean; shipped: boolean }): OrderStatus {
  if (o.open) return o.waiting ? 'AWAITING_STOCK' : 'READY';
  return o.shipped ? 'SHIPPED' : 'CANCELLED';
}

/** SQL pieces of orderStatus over `customer_order` aliased `o`. */
const orderWaiting = sql<boolean>`EXISTS (SELECT 1 FROM backorder b WHERE b.order_id = o.id AND ${queued('b')})`;
const orderShipped = sql<boolean>`EXISTS (SELECT 1 FROM order_line l WHERE l.order_id = o.id AND l.quantity_shipped > 0)`;

export const orderStatusSql = sql<OrderStatus>`CASE
  WHEN o.open AND ${orderWaiting} THEN 'AWAITING_STOCK'
  WHEN o.open THEN 'READY'
  WHEN ${orderShipped} THEN 'SHIPPED'
  ELSE 'CANCELLED' END`;

/** SQL: the order `o` has this status (the same rule as orderStatusSql, as a filter). */
export function orderHasStatus(status: OrderStatus): RawBuilder<boolean> {
  switch (status) {
    case 'AWAITING_STOCK':
      return sql<boolean>`o.open AND ${orderWaiting}`;
    case 'READY':
      return sql<boolean>`o.open AND NOT ${orderWaiting}`;
    case 'SHIPPED':
      return sql<boolean>`NOT o.open AND ${orderShipped}`;
    case 'CANCELLED':
      return sql<boolean>`NOT o.open AND NOT ${orderShipped}`;
  }
}

/**
 * SQL: whether the order `o` is still open: anything of it waits, or allocated units remain to ship
 * (a line's allocated units are those taken at checkout plus what its backorder received).
 */
export const orderStillOpenSql = sql<boolean>`${orderWaiting} OR EXISTS (
  SELECT 1 FROM order_line l LEFT JOIN backorder b ON b.order_line_id = l.id
  WHERE l.order_id = o.id AND l.quantity_taken + coalesce(b.quantity_allocated, 0) > l.quantity_shipped)`;

// ---- Ledger and counters ----------------------------------------------------------------------------

/**
 * Which counters each kind of movement moves, by its signed quantity. The counters are exactly the sums
 * of the ledger: `onHand` of receipts, adjustments and shipments; `allocated` of allocations, releases and
 * shipments. Reconciliation and every write derive from this table.
 */
export const MOVEMENT_EFFECTS: Record<MovementKind, { onHand: boolean; allocated: boolean }> = {
  RECEIPT: { onHand: true, allocated: false },
  ADJUSTMENT: { onHand: true, allocated: false },
  ALLOCATION: { onHand: false, allocated: true },
  RELEASE: { onHand: false, allocated: true },
  SHIPMENT: { onHand: true, allocated: true },
};

export const kindsMoving = (counter: 'onHand' | 'allocated'): MovementKind[] =>
  MOVEMENT_KINDS.filter((k) => MOVEMENT_EFFECTS[k][counter]);

/** The counter deltas a set of movements amounts to. */
export function countersOf(movements: readonly { kind: MovementKind; quantity: number }[]): {
  onHand: number;
  allocated: number;
} {
  let onHand = 0;
  let allocated = 0;
  for (const m of movements) {
    if (MOVEMENT_EFFECTS[m.kind].onHand) onHand += m.quantity;
    if (MOVEMENT_EFFECTS[m.kind].allocated) allocated += m.quantity;
  }
  return { onHand, allocated };
}

export type Counter = 'onHand' | 'allocated';

const COUNTER_COLUMNS: Record<Counter, string> = { onHand: 'on_hand', allocated: 'allocated' };

/** The counters after a set of movements: countersOf added to them. */
export function afterMovements<T extends { onHand: number; allocated: number }>(
  counters: T,
  movements: readonly { kind: MovementKind; quantity: number }[],
): T {
  const delta = countersOf(movements);
  return {
    ...counters,
    onHand: counters.onHand + delta.onHand,
    allocated: counters.allocated + delta.allocated,
  };
}

/**
 * SQL: the SET assignments of the stock counters one movement of `kind` by `quantity` moves (countersOf
 * in SQL), e.g. `allocated = s.allocated + i.taken`; `alias` names the stock row being updated.
 */
export function counterSetSql(
  kind: MovementKind,
  quantity: RawBuilder<number>,
  alias?: string,
): RawBuilder<unknown> {
  const moved = (Object.keys(COUNTER_COLUMNS) as Counter[]).filter((c) => MOVEMENT_EFFECTS[kind][c]);
  return sql.join(
    moved.map((c) => {
      const column = COUNTER_COLUMNS[c];
      return sql`${sql.raw(column)} = ${sql.raw(`${prefix(alias)}${column}`)} + ${quantity}`;
    }),
  );
}

/** The movement that records the units a checkout takes from stock. */
export const CHECKOUT_MOVEMENT = 'ALLOCATION' satisfies MovementKind;

/** The movement that records the units a queue fill hands out. */
export const FILL_MOVEMENT = 'ALLOCATION' satisfies MovementKind;

/**
 * A checkout line's effect on its product's stock row: the units it takes are an ALLOCATION, and the rest
 * (if any) joins the queue as one backorder.
 */
export function afterCheckoutLine<
  T extends { onHand: number; allocated: number; queueLength: number; unitsOnBackorder: number },
>(stock: T, line: { taken: number; rest: number }): T {
  return {
    ...afterMovements(stock, [{ kind: CHECKOUT_MOVEMENT, quantity: line.taken }]),
    queueLength: stock.queueLength + (line.rest > 0 ? 1 : 0),
    unitsOnBackorder: stock.unitsOnBackorder + line.rest,
  };
}

/** A fill's effect on its product's stock row: an ALLOCATION of its units; filled backorders leave the queue. */
export function afterFill<
  T extends { onHand: number; allocated: number; queueLength: number; unitsOnBackorder: number },
>(stock: T, fill: { units: number; completed: number }): T {
  return {
    ...afterMovements(stock, [{ kind: FILL_MOVEMENT, quantity: fill.units }]),
    queueLength: stock.queueLength - fill.completed,
    unitsOnBackorder: stock.unitsOnBackorder - fill.units,
  };
}

/**
 * SQL: afterCheckoutLine's queue arithmetic over a product's lines of one checkout: `queued` lines left a
 * rest (each joins as one backorder), `rest` is their units. `alias` names the stock row being updated.
 */
export function checkoutQueueSetSql(
  lines: { queued: RawBuilder<number>; rest: RawBuilder<number> },
  alias?: string,
): RawBuilder<unknown> {
  const p = prefix(alias);
  return sql`queue_length = ${sql.raw(`${p}queue_length`)} + ${lines.queued},
        units_on_backorder = ${sql.raw(`${p}units_on_backorder`)} + ${lines.rest}`;
}

/**
 * SQL: afterFill's queue arithmetic: the `completed` backorders leave the queue, and the `units` handed
 * out no longer wait.
 */
export function fillQueueSetSql(
  fill: { completed: RawBuilder<number>; units: RawBuilder<number> },
  alias?: string,
): RawBuilder<unknown> {
  const p = prefix(alias);
  return sql`queue_length = ${sql.raw(`${p}queue_length`)} - ${fill.completed},
        units_on_backorder = ${sql.raw(`${p}units_on_backorder`)} - ${fill.units}`;
}

/** Units free to promise: what is on hand less what is promised, never below zero. */
export function availableUnits(stock: { onHand: number; allocated: number }): number {
  return Math.max(0, stock.onHand - stock.allocated);
}

// ---- Backorder policy ---------------------------------------------------------------------------------

/** Whether a product takes backorders when none is available. */
export const BACKORDER_POLICIES = ['ALLOW', 'DENY'] as const;
export type BackorderPolicy = (typeof BACKORDER_POLICIES)[number];

/** Whether the product takes backorders at all. */
export function acceptsBackorders(product: { backorderPolicy: BackorderPolicy }): boolean {
  return product.backorderPolicy === 'ALLOW';
}

/** What is left under the product's backorderLimit; null when there is no cap. */
export function remainingCapacity(
  product: { backorderLimit: number | null },
  stock: { unitsOnBackorder: number },
): number | null {
  if (product.backorderLimit === null) return null;
  return Math.max(0, product.backorderLimit - stock.unitsOnBackorder);
}

/** Why a backorder of `units` would be refused now (policy first, then the cap); null: it would be taken. */
export function backorderRefusal(
  product: { backorderPolicy: BackorderPolicy; backorderLimit: number | null },
  stock: { unitsOnBackorder: number },
  units: number,
): { kind: 'NOT_ALLOWED' } | { kind: 'LIMIT'; capacity: number } | null {
  if (!acceptsBackorders(product)) return { kind: 'NOT_ALLOWED' };
  const capacity = remainingCapacity(product, stock);
  if (capacity !== null && units > capacity) return { kind: 'LIMIT', capacity };
  return null;
}

// ---- Inbound shipments --------------------------------------------------------------------------------

/**
 * An inbound shipment is complete once it has received its quantity. A delivery may bring more than was
 * announced (nothing caps quantity_received), so the test is `>=`.
 */
export function inboundComplete(i: { quantity: number; quantityReceived: number }): boolean {
  return i.quantityReceived >= i.quantity;
}

/** SQL: inboundComplete over the shipment (optionally through a table alias). */
export function inboundCompleteSql(alias?: string): RawBuilder<boolean> {
  return sql.raw(`${prefix(alias)}quantity_received >= ${prefix(alias)}quantity`);
}

// ---- Stock levels the shop is told about -------------------------------------------------------------

export type StockLevelCrossing = 'BACK_IN_STOCK' | 'LOW_STOCK';

/**
 * Whether a change of available units crosses a level worth telling: from none to some (back in stock),
 * or from above the low-stock threshold (unset: 0) to at or below it (low stock, sold out included).
 */
export function stockLevelCrossing(
  availableBefore: number,
  availableAfter: number,
  lowStockThreshold: number | null,
): StockLevelCrossing | null {
  if (availableBefore === 0 && availableAfter > 0) return 'BACK_IN_STOCK';
  const threshold = lowStockThreshold ?? 0;
  if (availableBefore > threshold && availableAfter <= threshold) return 'LOW_STOCK';
  return null;
}

// ---- Limits on totals and per customer ---------------------------------------------------------------

/** The largest count the schema can return (GraphQL Int); every counter it shows must stay within it. */
export const MAX_TOTAL = 2_147_483_647;

/** The stored totals a write can grow, as the schema names them. */
export const TOTAL_NAMES = ['ON_HAND', 'UNITS_ON_BACKORDER', 'QUEUE_LENGTH'] as const;
export type TotalName = (typeof TOTAL_NAMES)[number];

interface Totals {
  onHand: number;
  unitsOnBackorder: number;
  queueLength: number;
}

const TOTAL_FIELDS: Record<TotalName, keyof Totals> = {
  ON_HAND: 'onHand',
  UNITS_ON_BACKORDER: 'unitsOnBackorder',
  QUEUE_LENGTH: 'queueLength',
};

export interface TotalOverflow {
  total: TotalName;
  /** How much the total could still grow before this write. */
  remaining: number;
}

/**
 * The first total a write would take past MAX_TOTAL, from the counters before and after it; null when
 * all fit. `allocated` never exceeds `onHand`, and queue positions and units ahead never exceed the queue's
 * own totals, so these three bound every count derived from them.
 */
export function totalOverflow(before: Totals, after: Totals): TotalOverflow | null {
  for (const total of TOTAL_NAMES) {
    const field = TOTAL_FIELDS[total];
    if (after[field] > MAX_TOTAL) return { total, remaining: Math.max(0, MAX_TOTAL - before[field]) };
  }
  return null;
}

/**
 * The cap on what one customer holds of a product that has no cap of its own (`MAX_PER_CUSTOMER_DEFAULT`, a
 * setting; 0 turns it off). Without it one customer once ordered 2,145,000,000 units of one product in 429
 * orders, and every later customer got `TotalLimitError`: so every product is capped for one customer,
 * unless the shop turns the default off.
 */
export const MAX_PER_CUSTOMER_DEFAULT = 10_000;

/**
 * The per-customer cap in force on a product: its own `maxPerCustomer`, else the service-wide default
 * (0: none); null when neither caps it.
 */
export function customerCapInForce(maxPerCustomer: number | null, serviceDefault: number): number | null {
  if (maxPerCustomer !== null) return maxPerCustomer;
  return serviceDefault > 0 ? serviceDefault : null;
}

export interface CustomerCapBreach {
  productId: number;
  limit: number;
  /** What the customer could still order before this order, never below 0. */
  remaining: number;
}

/**
 * The per-customer cap: the first capped product (in the order its lines appear) that this order, its
 * lines of the product summed, would take past what one customer may hold. `caps` holds the cap in force
 * of each product (customerCapInForce; null or absent: none). `held` is what the customer already holds
 * of each product: units on its order lines not yet shipped, less the unshipped units of its cancelled
 * backorders.
 */
export function customerCapBreach(
  lines: readonly { productId: number; quantity: number }[],
  caps: ReadonlyMap<number, number | null>,
  held: ReadonlyMap<number, number>,
): CustomerCapBreach | null {
  const ordered = new Map<number, number>();
  for (const line of lines) ordered.set(line.productId, (ordered.get(line.productId) ?? 0) + line.quantity);
  for (const [productId, units] of ordered) {
    const limit = caps.get(productId);
    if (limit === null || limit === undefined) continue;
    const holding = held.get(productId) ?? 0;
    if (holding + units > limit) return { productId, limit, remaining: Math.max(0, limit - holding) };
  }
  return null;
}

/**
 * SQL: what one customer holds of each of these products (the `held` of customerCapBreach), as rows
 * ("productId", units), for a statement that counts it along with its own work (the order's write) or on
 * its own (unitsHeldByCustomer in the repositories). Products the customer holds none of have no row.
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
