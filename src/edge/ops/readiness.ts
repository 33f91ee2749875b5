import { log } from '../../base/log.ts';
import { OutageLog } from '../../base/outage-log.ts';
import type { Db } from '../../db/connect.ts';
import { pendingMigrations } from '../../db/migrate.ts';

/** A good database check holds this long: polling every second costs one statement every few seconds. */
export const RECHECK_MS = 2_000;
/** A database slower than this to answer the check is reported as not answering. */
export const CHECK_TIMEOUT_MS = 2_000;

export interface ReadyReport {
  ready: boolean;
  /** Why not, in words; absent when ready. */
  reason?: string;
  shuttingDown: boolean;
  database: { ok: boolean; checkedAt?: string };
  migrations: { atHead: boolean; pending: string[] };
  listener: { connected: boolean; downSince?: string; downForMs?: number; graceMs: number };
}

interface Check {
  at: number;
  /** Null when the database did not answer. */
  pending: string[] | null;
}

/**
 * Whether this instance should get traffic: the database answers, its migrations are at head, the change
 * listener has not been down longer than its grace (the polling fallback delivers meanwhile), and the
 * instance is not shutting down. A good database check is reused for RECHECK_MS; a failed one is retried
 * on the next probe; concurrent probes share one check.
 */
export class Readiness {
  private shuttingDown = false;
  private last: Check | undefined;
  private running: Promise<Check> | undefined;
  /** Database checks run (one statement each), for tests that bound the cost of probing. */
  checks = 0;
  /** The database's error goes to the log (once per outage), never into the public answer. */
  private readonly outage = new OutageLog('readiness check of the database', log);

  constructor(
    private readonly deps: {
      db: Db;
      listener: () => { connected: boolean; downSince: number | undefined };
      graceMs: number;
      now?: () => number;
    },
  ) {}

  /** From now on the instance reports itself unready, whatever else holds. */
  drain(): void {
    this.shuttingDown = true;
  }

  private get now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private check(): Promise<Check> {
    const last = this.last;
    if (last && last.pending !== null && this.now - last.at < RECHECK_MS) return Promise.resolve(last);
    this.running ??= this.runCheck().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runCheck(): Promise<Check> {
    this.checks++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
        CHECK_TIMEOUT_MS,
      );
    });
    try {
      const pending = await Promise.race([pendingMigrations(this.deps.db), timeout]);
      this.last = { at: this.now, pending };
      this.outage.succeeded();
    } catch (err) {
      this.last = { at: this.now, pending: null };
      this.outage.failed(err);
    } finally {
      clearTimeout(timer);
    }
    return this.last;
  }

  async report(): Promise<ReadyReport> {
    // Shutting down: the answer is no whatever the database says, and its pool may be closing.
    const check = this.shuttingDown && this.last ? this.last : await this.check();
    const listener = this.deps.listener();
    const downForMs = listener.downSince === undefined ? undefined : this.now - listener.downSince;
    const report: ReadyReport = {
      ready: true,
      shuttingDown: this.shuttingDown,
      database: {
        ok: check.pending !== null,
        checkedAt: new Date(check.at).toISOString(),
      },
      migrations: { atHead: check.pending?.length === 0, pending: check.pending ?? [] },
      listener: {
        connected: listener.connected,
        ...(listener.downSince === undefined
          ? {}
          : { downSince: new Date(listener.downSince).toISOString(), downForMs }),
        graceMs: this.deps.graceMs,
      },
    };
    const reason = this.shuttingDown
      ? 'shutting down'
      : check.pending === null
        ? 'database does not answer'
        : check.pending.length > 0
          ? `migrations not at head: ${check.pending.length} pending (${check.pending.join(', ')})`
          : downForMs !== undefined && downForMs > this.deps.graceMs
            ? `change listener down for ${downForMs} ms (more than ${this.deps.graceMs} ms)`
            : undefined;
    if (reason) {
      report.ready = false;
      report.reason = reason;
    }
    return report;
  }
}
