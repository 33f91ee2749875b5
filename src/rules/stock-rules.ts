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

/**
 * SQL: the backorder (optionally through a table alias) is in its product's queue. The partial indexes on
 * the queue are declared with this very predicate (a test compares them), so the planner can use them.
 */
export function queued(alias?: string): RawBuilder<boolean> {
  return sql.raw(`${alias ? `${alias}.` : ''}status IN (${quoted(QUEUED_STATUSES)})`);
}

// ---- Backorder status -------------------------------------------------------------------------------

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
    missing: leftQueue ? b.quantity - b.quantityAllocated : 0,
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

/** Units free to promise: what is on hand less what is promised, never below zero. */
export function availableUnits(stock: { onHand: number; allocated: number }): number {
  return Math.max(0, stock.onHand - stock.allocated);
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
