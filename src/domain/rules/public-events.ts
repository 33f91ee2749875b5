/**
 * The events the shop's other systems receive (webhooks), by their public names. Each is about one
 * subject, whose full state it carries as of the event.
 */
export const PUBLIC_EVENT_TYPES = [
  'backorder.created',
  'backorder.partially_allocated',
  'backorder.allocated',
  'backorder.shipped',
  'backorder.cancelled',
  'backorder.eta_moved',
  'order.shipped',
  'product.back_in_stock',
  'product.low_stock',
  'alert.product_available',
] as const;
export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];

/** The version of every payload's shape; a breaking change to a payload raises it. */
export const PAYLOAD_VERSION = 1;

/** GraphQL enum value of a public type ('backorder.eta_moved' -> 'BACKORDER_ETA_MOVED'). */
export const enumOfPublicType = (type: PublicEventType): string => type.replace('.', '_').toUpperCase();

/** The events a customer's own feed shows: those about their backorders, orders and alerts. */
export const CUSTOMER_EVENT_TYPES = PUBLIC_EVENT_TYPES.filter((t) => !t.startsWith('product.'));
