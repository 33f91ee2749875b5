import { log } from '../../base/log.ts';
import { backgroundDb, createDb, type Db, type Pool } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { Writer } from '../../db/transaction.ts';
import { LiveUpdates } from '../../live/live-updates.ts';
import { OutboxRelay } from '../../outbox/relay.ts';
import { WebhookJobs } from '../../outbox/webhook-jobs.ts';
import { HeldInputs } from '../../read/held-inputs.ts';
import { followCommits } from './after-commit.ts';
import type { FullAppConfig } from './app-config.ts';

/** The database and what works beside the requests: live updates, the outbox relay, webhook jobs. */
export interface Services {
  readonly db: Db;
  readonly pool: Pool;
  readonly queries: { count: number };
  readonly writer: Writer;
  /** The inputs of availability held in memory, for the requests' readers. */
  readonly held: HeldInputs;
  readonly live: LiveUpdates;
  readonly outbox: OutboxRelay;
  readonly webhooks: WebhookJobs;
  /** The schema migrated, then the live updates listening: before any request is served. */
  open(): Promise<void>;
  /** The outbox relay and the webhook jobs, once the edge is ready. */
  startWorkers(): void;
  /** Everything above in reverse, the pool last. */
  close(beforeLive: () => Promise<void>): Promise<void>;
  /** While stopping, the database may be shutting down too: its goodbyes are expected, not warnings. */
  stopping(): void;
}

export function createServices(config: FullAppConfig): Services {
  let stopping = false;
  const connectionLog = { ...log, warn: (message: string) => (stopping ? log.debug : log.warn)(message) };
  const { db, pool, queries } = createDb(config.databaseUrl, {
    ...config.pool,
    onError: (err) => connectionLog.warn(`database connection error: ${err.message}`),
  });
  const writer = new Writer(db);
  // What availability is computed from, held per instance and dropped by the live updates' change feed.
  const held = new HeldInputs(config.readCacheProducts);
  const live = new LiveUpdates(
    { db, url: config.databaseUrl, pool, mergeWindowMs: config.mergeWindowMs, held },
    connectionLog,
  );
  const webhooks = new WebhookJobs({
    pool,
    writer,
    settings: config.webhooks,
    log: connectionLog,
    alertRetentionMs: config.alerts.retentionMs,
  });
  const outbox = new OutboxRelay(writer.over(backgroundDb(pool)), { ...config.outbox, log: connectionLog });
  // What follows each commit, whoever wrote it: src/edge/app/after-commit.ts.
  const unfollow = followCommits(writer, { live, outbox, webhooks });
  return {
    db,
    pool,
    queries,
    writer,
    held,
    live,
    outbox,
    webhooks,
    async open() {
      await migrateToLatest(db);
      await live.start();
    },
    startWorkers() {
      outbox.start();
      webhooks.start();
    },
    async close(beforeLive) {
      unfollow();
      await webhooks.stop();
      await outbox.stop();
      await beforeLive();
      await live.stop();
      await db.destroy();
    },
    stopping() {
      stopping = true;
    },
  };
}
