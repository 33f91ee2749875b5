import type { Writer } from '../../db/transaction.ts';
import type { DomainEvent } from '../../domain/rules/domain-events.ts';
import type { LiveUpdates } from '../../live/live-updates.ts';
import type { OutboxRelay } from '../../outbox/relay.ts';
import type { WebhookJobs } from '../../outbox/webhook-jobs.ts';

/**
 * Everything that follows a commit on this instance, in one place. Every write commits through the writer
 * (requests, and over their own handle the outbox relay and the webhook worker), so each commit passes
 * here with the events it recorded, in this order:
 *
 * 1. Live subscribers: the change feed here reads the log at once (when anyone here may care) and one
 *    NOTIFY wakes every other instance's feed; products are recomputed and pushed, new notifications too.
 * 2. The outbox relay: it turns the new events into public events, queues a webhook delivery per
 *    subscribed endpoint and adds customer events to their feeds, in one write that records
 *    NotificationsAdded. That write's own commit comes back here: step 1 pushes the notifications to the
 *    customers watching their feed. It does not poke the relay again (a batch that only added
 *    notifications has nothing more to relay), so the relay cannot feed itself.
 * 3. Webhook deliveries: a batch that queued deliveries pokes the worker; so do staff changes that can make
 *    a delivery sendable (a new or re-enabled endpoint, a redelivery).
 *
 * Other instances' commits reach steps 1 and 2 through the NOTIFY and the relay's poll.
 */
export function followCommits(
  writer: Writer,
  parts: { live: LiveUpdates; outbox: OutboxRelay; webhooks: WebhookJobs },
): () => void {
  const { live, outbox, webhooks } = parts;
  const stop = writer.onCommit((events) => {
    live.committed(events);
    if (events.some(isRelayed)) void outbox.poke();
    webhooks.committed(events);
  });
  outbox.onDeliveries = () => webhooks.poke();
  return () => {
    stop();
    outbox.onDeliveries = undefined;
  };
}

/** The relay's own record of what it added: nothing in it for the relay to turn into public events. */
const isRelayed = (event: DomainEvent): boolean => event.type !== 'NotificationsAdded';
