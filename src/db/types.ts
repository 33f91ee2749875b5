import type { ColumnType, Generated } from 'kysely';
import type { BackorderStatus, MovementKind, OrderStatus } from '../rules/stock-rules.ts';

/** Row types as Postgres stores them. bigint ids arrive as JS numbers (see connect.ts). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type BackorderPolicyValue = 'ALLOW' | 'DENY';
export type InboundStatusValue = 'OPEN' | 'RECEIVED' | 'CANCELLED';
export type MovementKindValue = MovementKind;
export type BackorderStatusValue = BackorderStatus;
export type OrderStatusValue = OrderStatus;

export interface ProductTable {
  id: Generated<number>;
  sku: string;
  name: string;
  backorder_policy: ColumnType<BackorderPolicyValue, BackorderPolicyValue | undefined, BackorderPolicyValue>;
  backorder_limit: number | null;
  low_stock_threshold: number | null;
  restock_lead_time_days: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StockTable {
  product_id: number;
  on_hand: Generated<number>;
  allocated: Generated<number>;
  queue_length: Generated<number>;
  units_on_backorder: Generated<number>;
}

export interface InboundShipmentTable {
  id: Generated<number>;
  product_id: number;
  quantity: number;
  quantity_received: Generated<number>;
  expected_at: Timestamp;
  status: ColumnType<InboundStatusValue, InboundStatusValue | undefined, InboundStatusValue>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StockMovementTable {
  id: Generated<number>;
  product_id: number;
  kind: MovementKindValue;
  quantity: number;
  reason: string | null;
  reference: string | null;
  actor: string;
  created_at: Timestamp;
}

export interface DomainEventTable {
  seq: Generated<number>;
  type: string;
  product_ids: number[];
  payload: unknown;
  created_at: Timestamp;
}

export interface CustomerOrderTable {
  id: Generated<number>;
  customer_id: string;
  idempotency_key: string;
  request_hash: string;
  /** Something still waits in a queue or remains to ship; changed by ship and cancel only. */
  open: Generated<boolean>;
  created_at: Timestamp;
}

export interface OrderLineTable {
  id: Generated<number>;
  order_id: number;
  position: number;
  product_id: number;
  quantity: number;
  /** Units allocated from stock at checkout; what the backorder receives later is on the backorder. */
  quantity_taken: number;
  quantity_shipped: Generated<number>;
}

export interface BackorderTable {
  id: Generated<number>;
  order_id: number;
  order_line_id: number;
  product_id: number;
  customer_id: string;
  quantity: number;
  quantity_allocated: Generated<number>;
  quantity_shipped: Generated<number>;
  status: ColumnType<BackorderStatusValue, BackorderStatusValue | undefined, BackorderStatusValue>;
  /** The ALLOCATION movement of the fill that last served it. */
  last_fill: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface Database {
  product: ProductTable;
  stock: StockTable;
  inbound_shipment: InboundShipmentTable;
  stock_movement: StockMovementTable;
  domain_event: DomainEventTable;
  customer_order: CustomerOrderTable;
  order_line: OrderLineTable;
  backorder: BackorderTable;
}
