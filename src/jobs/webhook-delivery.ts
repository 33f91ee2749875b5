import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Db } from '../db/connect.ts';
import {
  type ClaimedDelivery,
  claimDue,
  endpointsWithDueWork,
  markDelivered,
  markFailed,
  releaseLeases,
} from '../db/repos/webhooks.ts';
import type { Writer } from '../db/transaction.ts';
import { OutageLog } from '../events/outage-log.ts';
import { SingleFlight } from '../events/single-flight.ts';
import type { WebhookEvent } from '../rules/events.ts';
import type { AddressPolicy } from '../rules/webhook-addresses.ts';
import { backoffMs, isExhausted, type RetryPolicy } from '../rules/webhook-retry.ts';
import { guardedLookup, type SendResult, sendWebhook } from './webhook-send.ts';
import { leaseMs, type WebhookSettings } from './webhook-settings.ts';

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
 * dead), so each subject arrives in order. Capacity is shared between endpoints, with a cap per endpoint
 * counted across instances: one slow endpoint fills its own share, never everyone's.
 */
export class WebhookDeliveryWorker {
  private readonly inFlight = new Map<number, Promise<void>>();
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
  private unsubscribe: (() => void) | undefined;
  /** One claim-and-send at a time; a poke while one runs asks for one more right after it. */
  private readonly runs = new SingleFlight(async () => {
    if (!this.stopped) await this.claimAndSend();
  });
  private stopped = false;
  /** Deliveries settled by this instance (tests and benchmarks read it). */
  delivered = 0;

  constructor(private readonly deps: { db: Db; writer?: Writer; settings: WebhookSettings; log: Log }) {
    const s = deps.settings;
    this.addresses = { allowLoopback: s.allowLoopback, allowPrivate: s.allowPrivate };
    this.lookup = guardedLookup(this.addresses);
    this.retry = { baseMs: s.backoffBaseMs, capMs: s.backoffCapMs, maxAttempts: s.maxAttempts };
    this.outage = new OutageLog('webhook delivery', deps.log);
  }

  start(): void {
    this.timer = setInterval(() => this.poke(), this.deps.settings.pollMs);
    this.timer.unref();
    this.unsubscribe = this.deps.writer?.onCommit((events) => {
      if (events.some((e) => WAKING.has(e.type as WebhookEvent['type']))) this.poke();
    });
    this.poke();
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
    this.unsubscribe?.();
    this.abort.abort();
    await this.runs.current;
    await Promise.allSettled([...this.inFlight.values()]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async claimAndSend(): Promise<void> {
    const s = this.deps.settings;
    let room = s.concurrency - this.inFlight.size;
    if (room <= 0) return;
    try {
      const endpoints = await endpointsWithDueWork(this.deps.db);
      // Shares of the room, one at a time round the endpoints, none past its own cap.
      const shares = new Map<number, number>();
      const free = new Map(endpoints.map((e) => [e.endpointId, s.endpointConcurrency - e.inFlight]));
      let gave = true;
      while (room > 0 && gave) {
        gave = false;
        for (const [id, left] of free) {
          if (room === 0 || left <= 0) continue;
          free.set(id, left - 1);
          shares.set(id, (shares.get(id) ?? 0) + 1);
          room--;
          gave = true;
        }
      }
      for (const [endpointId, count] of shares) {
        if (this.stopped) return;
        const claimed = await claimDue(this.deps.db, endpointId, count, leaseMs(s));
        for (const delivery of claimed) this.launch(delivery);
      }
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
        // Capacity came free, and the next event of this subject may now be due.
        this.poke();
      });
    this.inFlight.set(delivery.id, run);
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
      await releaseLeases(this.deps.db, [d.id]);
      return;
    }
    if (result.ok) {
      await markDelivered(this.deps.db, d.id, result.status!);
      this.delivered++;
      return;
    }
    const attempts = d.attempts + 1;
    const outcome = await markFailed(this.deps.db, {
      id: d.id,
      status: result.status,
      error: result.error ?? 'failed',
      durationMs: result.durationMs,
      dead: isExhausted(attempts, this.retry),
      retryInMs: backoffMs(attempts, this.retry),
      disableAfterMs: s.disableAfterMs,
    });
    if (outcome.dead) {
      this.deps.log.warn(`webhook delivery ${d.id} (${d.eventId}) gave up after ${attempts} attempts`);
    }
    if (outcome.disabledReason) {
      this.deps.log.warn(`webhook endpoint ${d.endpointId} disabled: ${outcome.disabledReason}`);
    }
  }
}
