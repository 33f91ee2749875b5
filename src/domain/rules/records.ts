import type { BackorderPolicy, BackorderStatus, MovementKind, OrderStatus } from './stock-rules.ts';

export type BackorderPolicyValue = BackorderPolicy;
export type InboundStatusValue = 'OPEN' | 'RECEIVED' | 'CANCELLED';
export type MovementKindValue = MovementKind;
export type BackorderStatusValue = BackorderStatus;
export type OrderStatusValue = OrderStatus;

/** The domain's records: the shapes repositories return (camelCase), what the rest of the service works with. */

export interface ProductRecord {
  id: number;
  sku: string;
  name: string;
  backorderPolicy: BackorderPolicyValue;
  backorderLimit: number | null;
  lowStockThreshold: number | null;
  restockLeadTimeDays: number | null;
  /** Units one customer may hold (ordered, not yet shipped); null: no cap. */
  maxPerCustomer: number | null;
  createdAt: Date;
}

export interface StockRecord {
  productId: number;
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
}

export interface InboundRecord {
  id: number;
  productId: number;
  quantity: number;
  quantityReceived: number;
  expectedAt: Date;
  status: InboundStatusValue;
  createdAt: Date;
}

export interface MovementRecord {
  id: number;
  productId: number;
  kind: MovementKindValue;
  quantity: number;
  reason: string | null;
  reference: string | null;
  actor: string;
  createdAt: Date;
}

export interface OrderRecord {
  id: number;
  customerId: string;
  requestHash: string;
  status: OrderStatusValue;
  createdAt: Date;
}

export interface OrderLineRecord {
  id: number;
  orderId: number;
  position: number;
  productId: number;
  quantity: number;
  /** Units taken at checkout plus what the line's backorder has received (derived). */
  quantityAllocated: number;
  quantityShipped: number;
}

export interface BackorderRecord {
  id: number;
  orderId: number;
  orderLineId: number;
  productId: number;
  customerId: string;
  quantity: number;
  quantityAllocated: number;
  quantityShipped: number;
  status: BackorderStatusValue;
  createdAt: Date;
}

/** A page request as the connection helper hands it down: keyset bounds and a row limit. */
export interface PageWindow<C> {
  after?: C;
  before?: C;
  limit: number;
  /** Read backwards from `before` (for `last`); the caller reverses the rows again. */
  inverted: boolean;
}
