import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { OutageLog } from '../base/outage-log.ts';
import { SingleFlight } from '../base/single-flight.ts';
import {
  type ClaimedDelivery,
  claimDue,
  markDelivered,
  markFailed,
  releaseLeases,
} from '../db/repos/webhooks.ts';
import type { Writer } from '../db/transaction.ts';
import type { DomainEvent, WebhookEvent } from '../domain/rules/domain-events.ts';
import type { AddressPolicy } from '../domain/rules/webhook-addresses.ts';
import { backoffMs, isExhausted, type RetryPolicy } from '../domain/rules/webhook-retry.ts';
import { guardedLookup, type SendResult, sendWebhook } from './webhook-send.ts';
import { failingSlots, leaseMs, type WebhookSettings } from './webhook-settings.ts';

interface Log {
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
}

/** Staff changes after which there may be something to send at once. */
const WAKING: ReadonlySet<WebhookEvent['type']> = new Set([
  'WebhookEndpointCreated',
  'WebhookEndpointUpdated',
  'DeliveryRedelivered',
]);

/**
 * Sends due webhook deliveries, on every instance. Each claim is a short transaction that leases rows
 * (FOR UPDATE SKIP LOCKED), so instances share the work and never send one delivery at the same time; a
 * worker that dies mid-send lets its lease lapse and the delivery goes again, with the same event id.
 *
 * A delivery is due only after every earlier one of its subject to its endpoint is settled (delivered or
 * dead), so each subject arrives in order. The slots are shared between endpoints, one per endpoint first,
 * with a cap per endpoint counted across instances: `endpointConcurrency`, or `failingEndpointConcurrency`
 * (1) once the endpoint's last attempt failed; and requests to failing endpoints together hold at most
 * half of this instance's slots (failingSlots). However many endpoints fail or hang, the others always find
 * room; what nobody else needs goes to whoever has work.
 */
export class WebhookDeliveryWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Deliveries in flight whose endpoint was failing when claimed: they count against failingSlots. */
  private readonly failingInFlight = new Set<number>();
  private readonly abort = new AbortController();
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
  };
  private readonly lookup: LookupFunction;
  private readonly addresses: AddressPolicy;
  private readonly retry: RetryPolicy;
  private readonly outage: OutageLog;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** One claim-and-send at a time; a poke while one runs asks for one more right after it. */
  private readonly runs = new SingleFlight(async () => {
    if (!this.stopped) await this.claimAndSend();
  });
  private stopped = false;
  /** Deliveries settled by this instance (tests and benchmarks read it). */
  delivered = 0;

  /** `writer`: settling a failure can disable the endpoint, a change recorded like a staff update. */
  constructor(private readonly deps: { writer: Writer; settings: WebhookSettings; log: Log }) {
    const s = deps.settings;
    this.addresses = { allowLoopback: s.allowLoopback, allowPrivate: s.allowPrivate };
    this.lookup = guardedLookup(this.addresses);
    this.retry = { baseMs: s.backoffBaseMs, capMs: s.backoffCapMs, maxAttempts: s.maxAttempts };
    this.outage = new OutageLog('webhook delivery', deps.log);
    // Every request in flight listens on the one stop signal.
    setMaxListeners(s.concurrency + 10, this.abort.signal);
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.deps.settings.pollMs);
    this.timer.unref();
    this.started = true;
    this.poke();
  }

  /** After a commit: a staff change may have made something sendable now. */
  committed(events: readonly DomainEvent[]): void {
    if (this.started && events.some((e) => WAKING.has(e.type as WebhookEvent['type']))) this.poke();
  }

  /** Looks for due deliveries now (new ones were queued, or capacity came free). */
  poke(): void {
    if (this.stopped) return;
    void this.runs.run();
  }

  /** Stops claiming, cuts the requests in flight and hands their deliveries back for anyone to send. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.abort.abort();
    await this.runs.current;
    await Promise.allSettled([...this.inFlight.values()]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** One claim for all the free slots: fair between endpoints, decided in the database (claimDue). */
  private async claimAndSend(): Promise<void> {
    const s = this.deps.settings;
    const room = s.concurrency - this.inFlight.size;
    if (room <= 0) return;
    try {
      const claimed = await claimDue(this.deps.writer.alone(), {
        limit: room,
        failingLimit: Math.max(0, failingSlots(s) - this.failingInFlight.size),
        endpointConcurrency: s.endpointConcurrency,
        failingEndpointConcurrency: s.failingEndpointConcurrency,
        leaseMs: leaseMs(s),
      });
      for (const delivery of claimed) this.launch(delivery);
      this.outage.succeeded();
    } catch (err) {
      this.outage.failed(err);
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    const run = this.deliver(delivery)
      .catch((err) => this.outage.failed(err))
      .finally(() => {
        this.inFlight.delete(delivery.id);
        this.failingInFlight.delete(delivery.id);
        // Capacity came free, and the next event of this subject may now be due.
        this.poke();
      });
    this.inFlight.set(delivery.id, run);
    if (delivery.failing) this.failingInFlight.add(delivery.id);
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const s = this.deps.settings;
    const result: SendResult = await sendWebhook(
      {
        url: d.url,
        eventId: d.eventId,
        body: d.body,
        secrets: d.previousSecret ? [d.secret, d.previousSecret] : [d.secret],
      },
      {
        timeoutMs: s.timeoutMs,
        policy: this.addresses,
        lookup: this.lookup,
        agents: this.agents,
        signal: this.abort.signal,
      },
    );
    if (result.aborted) {
      await releaseLeases(this.deps.writer.alone(), [d.id]);
      return;
    }
    if (result.ok) {
      await markDelivered(this.deps.writer.alone(), d, result.status!);
      this.delivered++;
      return;
    }
    const attempts = d.attempts + 1;
    const outcome = await this.deps.writer.run(async (tx) => {
      const outcome = await markFailed(tx, {
        id: d.id,
        endpointId: d.endpointId,
        status: result.status,
        error: result.error ?? 'failed',
        durationMs: result.durationMs,
        dead: isExhausted(attempts, this.retry),
        retryInMs: backoffMs(attempts, this.retry),
        disableAfterMs: s.disableAfterMs,
      });
      // The same event as staff disabling it: the endpoint's change reaches everyone who follows them.
      if (outcome.disabledReason) {
        tx.record({ type: 'WebhookEndpointUpdated', endpointId: d.endpointId, changed: ['enabled'] });
      }
      return outcome;
    });
    if (outcome.dead) {
      this.deps.log.warn(`webhook delivery ${d.id} (${d.eventId}) gave up after ${attempts} attempts`);
    }
    if (outcome.disabledReason) {
      this.deps.log.warn(`webhook endpoint ${d.endpointId} disabled: ${outcome.disabledReason}`);
    }
  }
}
