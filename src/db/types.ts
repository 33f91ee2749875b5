import type { ColumnType, Generated } from 'kysely';
import type {
  BackorderPolicyValue,
  BackorderStatusValue,
  InboundStatusValue,
  MovementKindValue,
} from '../domain/rules/records.ts';

/** Row types as Postgres stores them. bigint ids arrive as JS numbers (see connect.ts). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface ProductTable {
  id: Generated<number>;
  sku: string;
  name: string;
  backorder_policy: ColumnType<BackorderPolicyValue, BackorderPolicyValue | undefined, BackorderPolicyValue>;
  backorder_limit: number | null;
  low_stock_threshold: number | null;
  restock_lead_time_days: number | null;
  max_per_customer: ColumnType<number | null, number | null | undefined, number | null>;
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

export interface OutboxCursorTable {
  name: string;
  seq: number;
}

export interface OutboxEventTable {
  position: Generated<number>;
  id: string;
  type: string;
  source_seq: number;
  subject: string;
  sequence: number;
  customer_id: string | null;
  product_id: number | null;
  body: string;
  created_at: Timestamp;
}

export interface OutboxSubjectTable {
  subject: string;
  sequence: number;
}

export interface BackorderEtaNoticeTable {
  backorder_id: number;
  eta: Date | null;
  lead_days: number | null;
  notified_at: Timestamp;
}

export type WebhookDeliveryStatusValue = 'PENDING' | 'DELIVERED' | 'DEAD';

export interface WebhookEndpointTable {
  id: Generated<number>;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: Generated<boolean>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  disabled_reason: string | null;
  failing_since: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface WebhookDeliveryTable {
  id: Generated<number>;
  endpoint_id: number;
  event_position: number;
  subject: string;
  status: ColumnType<
    WebhookDeliveryStatusValue,
    WebhookDeliveryStatusValue | undefined,
    WebhookDeliveryStatusValue
  >;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  leased_until: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Timestamp;
}

export interface WebhookAttemptTable {
  id: Generated<number>;
  delivery_id: number;
  attempted_at: Timestamp;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

export type AvailabilityRequestStatusValue = 'OPEN' | 'FULFILLED' | 'CANCELLED';

export interface AvailabilityRequestTable {
  id: Generated<number>;
  customer_id: string;
  product_id: number;
  status: ColumnType<
    AvailabilityRequestStatusValue,
    AvailabilityRequestStatusValue | undefined,
    AvailabilityRequestStatusValue
  >;
  created_at: Timestamp;
  closed_at: Date | null;
}

export interface NotificationTable {
  id: Generated<number>;
  customer_id: string;
  event_id: string;
  type: string;
  message: string;
  product_id: number | null;
  order_id: number | null;
  backorder_id: number | null;
  created_at: Timestamp;
  read_at: Date | null;
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
  outbox_cursor: OutboxCursorTable;
  outbox_event: OutboxEventTable;
  outbox_subject: OutboxSubjectTable;
  backorder_eta_notice: BackorderEtaNoticeTable;
  webhook_endpoint: WebhookEndpointTable;
  webhook_delivery: WebhookDeliveryTable;
  webhook_attempt: WebhookAttemptTable;
  availability_request: AvailabilityRequestTable;
  notification: NotificationTable;
}
