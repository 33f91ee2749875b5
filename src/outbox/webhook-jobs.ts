import { backgroundDb, type Pool } from '../db/connect.ts';
import type { Writer } from '../db/transaction.ts';
import type { DomainEvent } from '../domain/rules/domain-events.ts';
import { Retention } from './retention.ts';
import { WebhookDeliveryWorker } from './webhook-delivery.ts';
import type { WebhookSettings } from './webhook-settings.ts';

interface Log {
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
}

/**
 * The webhook side of an instance: the delivery worker and retention (of deliveries, events, the change
 * log and closed back-in-stock requests), both off when the worker is.
 */
export class WebhookJobs {
  readonly worker: WebhookDeliveryWorker | undefined;
  readonly retention: Retention | undefined;

  /**
   * `pool` is the instance's own: the jobs share its connections, but their statements run on a handle of
   * their own, so they are not counted as the statements of requests. Their writes go through `writer`
   * over that handle, so their commits are followed up like any other.
   */
  constructor(deps: {
    pool: Pool;
    writer: Writer;
    settings: WebhookSettings;
    log: Log;
    /** ALERT_RETENTION_DAYS, in ms (unset: its default). */
    alertRetentionMs?: number;
  }) {
    if (!deps.settings.worker) return;
    const db = backgroundDb(deps.pool);
    const writer = deps.writer.over(db);
    this.worker = new WebhookDeliveryWorker({ ...deps, writer });
    this.retention = new Retention({
      writer,
      retentionMs: deps.settings.retentionMs,
      ...(deps.alertRetentionMs === undefined ? {} : { alertRetentionMs: deps.alertRetentionMs }),
      intervalMs: deps.settings.retentionIntervalMs,
      log: deps.log,
    });
  }

  start(): void {
    this.worker?.start();
    this.retention?.start();
  }

  /** New deliveries were queued: look for them now rather than at the next poll. */
  poke(): void {
    this.worker?.poke();
  }

  /** After a commit: staff changes can make deliveries sendable at once. */
  committed(events: readonly DomainEvent[]): void {
    this.worker?.committed(events);
  }

  async stop(): Promise<void> {
    await Promise.all([this.worker?.stop(), this.retention?.stop()]);
  }
}
