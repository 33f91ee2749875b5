import { OutageLog } from '../base/outage-log.ts';
import { pruneClosedRequests } from '../db/repos/alerts.ts';
import { pruneChangeLog, pruneDelivered, pruneOutbox } from '../db/repos/webhooks.ts';
import type { LoneWrite, Writer } from '../db/transaction.ts';
import { ALERT_DEFAULTS } from '../domain/alert-settings.ts';

/** Rows per statement: each delete stays short, however much has piled up. */
export const RETENTION_BATCH = 1_000;

export interface Pruned {
  deliveries: number;
  events: number;
  changes: number;
}

/**
 * Removes what nobody needs any more, once it is older than the retention time: delivered deliveries
 * (their attempts with them), outbox events no pending or dead delivery still refers to, and change-log
 * rows the outbox relay has already read. Batch by batch on a timer, never on a request's path; dead
 * letters stay until staff redeliver them or delete their endpoint.
 */
export async function pruneOnce(
  write: LoneWrite,
  retentionMs: number,
  batch = RETENTION_BATCH,
): Promise<Pruned> {
  const pruned: Pruned = { deliveries: 0, events: 0, changes: 0 };
  for (let n = batch; n === batch; ) {
    n = await pruneDelivered(write, retentionMs, batch);
    pruned.deliveries += n;
  }
  for (let n = batch; n === batch; ) {
    n = await pruneOutbox(write, retentionMs, batch);
    pruned.events += n;
  }
  for (;;) {
    const { seen, deleted } = await pruneChangeLog(write, retentionMs, batch);
    pruned.changes += deleted;
    if (seen < batch || deleted < seen) break;
  }
  return pruned;
}

/**
 * Deletes back-in-stock requests withdrawn or fired longer than `retentionMs` ago, batch by batch; open
 * ones stay whatever their age. Returns how many were deleted.
 */
export async function pruneAlertRequests(
  write: LoneWrite,
  retentionMs: number,
  batch = RETENTION_BATCH,
): Promise<number> {
  let pruned = 0;
  for (let n = batch; n === batch; ) {
    n = await pruneClosedRequests(write, retentionMs, batch);
    pruned += n;
  }
  return pruned;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly outage: OutageLog;

  constructor(
    private readonly deps: {
      /** Retention's deletes are bookkeeping: each stands alone (Writer.alone). */
      writer: Writer;
      retentionMs: number;
      /** How long withdrawn and fired back-in-stock requests are kept (ALERT_RETENTION_DAYS). */
      alertRetentionMs?: number;
      intervalMs: number;
      log: { warn(message: string): void; info(message: string): void };
    },
  ) {
    this.outage = new OutageLog('retention', deps.log);
  }

  start(): void {
    this.timer = setInterval(() => this.run(), this.deps.intervalMs);
    this.timer.unref();
  }

  /** One pass now, unless one is already running. */
  run(): Promise<unknown> {
    const write = this.deps.writer.alone();
    this.running ??= pruneOnce(write, this.deps.retentionMs)
      .then(() => pruneAlertRequests(write, this.deps.alertRetentionMs ?? ALERT_DEFAULTS.retentionMs))
      .then(
        () => this.outage.succeeded(),
        (err) => this.outage.failed(err),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
