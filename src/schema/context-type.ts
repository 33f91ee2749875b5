import type { NotificationRecord } from '../db/repos/notifications.ts';
import type { Writer } from '../db/transaction.ts';
import type { WebhookUrlPolicy } from '../domain/rules/webhook-urls.ts';
import type { Actor } from '../domain/types.ts';
import type { ProductUpdate } from '../live/live-hub.ts';
import type { OperationWork } from '../read/operation-work.ts';
import type { Readers } from '../read/readers.ts';

/** What every resolver gets: who is asking, fresh batched readers, and the one way to write. */
export interface Context {
  viewer: Actor | null;
  /** When the caller's token expires (none for anonymous callers): a stream must end then. */
  credentialExpiresAt?: Date;
  /** The operation's reads: closed once its answer is decided (see OperationWork). */
  work?: OperationWork;
  /** Per request; a subscription swaps in each event's primed readers. */
  readers: Readers;
  writer: Writer;
  live: {
    watch(productId: number, backorderId?: number | null): AsyncIterableIterator<ProductUpdate>;
    /** New notifications of one customer, pushed as they are added. */
    notifications: { watch(customerId: string): AsyncIterableIterator<NotificationRecord> };
  };
  /** Which webhook endpoint URLs may be saved (unset: https only). */
  webhookUrls?: WebhookUrlPolicy;
  /** Open back-in-stock requests one customer may have (unset: the default, ALERT_DEFAULTS). */
  alerts?: { maxPerCustomer: number };
  /** Units one customer may hold of a product without its own cap (unset: MAX_PER_CUSTOMER_DEFAULT; 0: none). */
  maxPerCustomerDefault?: number;
}
