import type { StockLevelCrossing } from './stock-rules.ts';

/**
 * What happened, as every write records it inside its own transaction. The change log that live updates
 * read is these events; so will be the outbox. Each names the products it touched.
 *
 * Payloads stay small on the hot paths: a queue fill of any size is one event, expanded per backorder
 * after commit (see the read layer).
 */
export type DomainEvent =
  | { type: 'ProductCreated'; productId: number }
  | { type: 'AvailabilityRequested'; productId: number; requestId: number; customerId: string }
  | { type: 'AvailabilityRequestCancelled'; productId: number; requestId: number; customerId: string }
  | {
      type: 'AvailabilityRequestsFulfilled';
      productId: number;
      /** Every open request of the product, spent in the transaction that made it available. */
      requests: { id: number; customerId: string }[];
    }
  | { type: 'NotificationsRead'; customerId: string; count: number }
  | {
      /** Notifications firstId..lastId were added (after commit, by the relay): feeds on every instance. */
      type: 'NotificationsAdded';
      firstId: number;
      lastId: number;
    }
  | { type: 'ProductUpdated'; productId: number; changed: string[] }
  | { type: 'InboundScheduled'; productId: number; inboundId: number; quantity: number; expectedAt: string }
  | {
      type: 'InboundUpdated';
      productId: number;
      inboundId: number;
      quantity: number;
      expectedAt: string;
      received: boolean;
    }
  | { type: 'InboundCancelled'; productId: number; inboundId: number }
  | { type: 'StockReceived'; productId: number; quantity: number; inboundId: number | null }
  | { type: 'StockAdjusted'; productId: number; delta: number }
  | {
      type: 'OrderPlaced';
      orderId: number;
      customerId: string;
      productIds: number[];
      /** Units taken from stock at once, per line. */
      taken: number;
      backorders: { id: number; productId: number; quantity: number }[];
    }
  | QueueFilled
  | {
      type: 'BackorderCancelled';
      productId: number;
      backorderId: number;
      orderId: number;
      customerId: string;
      released: number;
    }
  | {
      type: 'OrderShipped';
      orderId: number;
      customerId: string;
      shipped: { productId: number; units: number }[];
      /** Backorders of the order that shipped units now, and whether all of theirs have shipped. */
      backorders: { id: number; productId: number; complete: boolean }[];
    }
  | {
      type: 'StockLevelCrossed';
      productId: number;
      crossing: StockLevelCrossing;
      availableBefore: number;
      availableAfter: number;
    }
  | WebhookEvent;

/** Staff managing webhook endpoints and their deliveries: no product is touched. */
export type WebhookEvent =
  | { type: 'WebhookEndpointCreated'; endpointId: number }
  | { type: 'WebhookEndpointUpdated'; endpointId: number; changed: string[] }
  | { type: 'WebhookEndpointDeleted'; endpointId: number }
  | { type: 'WebhookSecretRotated'; endpointId: number; previousExpiresAt: string }
  | { type: 'DeliveryRedelivered'; deliveryId: number; endpointId: number };

/**
 * Units handed to the head of a product's queue, in queue order, by one receipt, adjustment or cancel.
 * The backorders served are those between `fromId` and `toId` whose last fill was `fill`, plus `toId`
 * (a later fill may complete it): the first got `firstUnits`, the last `lastUnits`, every other one its
 * whole quantity (only the head of a queue can be partly allocated).
 */
export interface QueueFilled {
  type: 'QueueFilled';
  productId: number;
  /** The fill's ALLOCATION movement. */
  fill: number;
  units: number;
  backorders: number;
  /** Of those, how many are now complete (ALLOCATED). */
  completed: number;
  fromId: number;
  toId: number;
  firstUnits: number;
  lastUnits: number;
}

export type DomainEventType = DomainEvent['type'];

/**
 * The shape of a stored event's payload (its `v` field). Bump it, with a migration, when a stored event
 * changes shape, so a release that does not know the new shape says so instead of misreading it.
 */
export const EVENT_PAYLOAD_VERSION = 1;

/** A stored payload written in a shape this release does not know (by a newer release). */
export class UnknownEventVersionError extends Error {
  constructor(
    readonly seq: number,
    readonly version: unknown,
  ) {
    super(
      `domain event ${seq} has payload version ${JSON.stringify(version)}; this release reads ${EVENT_PAYLOAD_VERSION}`,
    );
  }
}

/** The event a stored payload holds; rows from before versioning (no `v`) are version 1. */
export function eventOfPayload(seq: number, payload: unknown): DomainEvent {
  const { v = 1, ...event } = payload as { v?: unknown } & Record<string, unknown>;
  if (v !== EVENT_PAYLOAD_VERSION) throw new UnknownEventVersionError(seq, v);
  return event as unknown as DomainEvent;
}

/** The products an event touched: what live updates recompute. */
export function productsOf(event: DomainEvent): number[] {
  switch (event.type) {
    case 'OrderPlaced':
      return event.productIds;
    case 'OrderShipped':
      return event.shipped.map((s) => s.productId);
    case 'WebhookEndpointCreated':
    case 'WebhookEndpointUpdated':
    case 'WebhookEndpointDeleted':
    case 'WebhookSecretRotated':
    case 'DeliveryRedelivered':
    case 'NotificationsRead':
    case 'NotificationsAdded':
      return [];
    default:
      return [event.productId];
  }
}
