import type pg from 'pg';
import type { Db } from '../db/connect.ts';
import type { Writer } from '../db/transaction.ts';
import { ChangeFeed } from './change-feed.ts';
import { LiveHub } from './live-hub.ts';
import { Wakeup } from './wakeup.ts';

const POLL_MS = 500;

/**
 * The event flow of one instance:
 * write commits (change log row in the same transaction) -> local feed read + one coalesced NOTIFY ->
 * every instance's listener wakes its feed -> feed reads the change log in order -> hub merges per window,
 * recomputes each product once, pushes to its watchers. A timer reads the feed too, so a lost wake-up only
 * costs latency.
 */
export class LiveUpdates {
  readonly hub: LiveHub;
  readonly feed: ChangeFeed;
  readonly wakeup: Wakeup;
  private poll: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    deps: { db: Db; writer: Writer; url: string; pool: pg.Pool; mergeWindowMs: number },
    private readonly log: { warn(message: string): void; error(message: string, detail?: unknown): void },
  ) {
    this.hub = new LiveHub(deps.db, deps.mergeWindowMs, log);
    this.feed = new ChangeFeed(deps.db, (ids) => this.hub.changed(ids));
    this.wakeup = new Wakeup(deps.url, deps.pool, () => this.read(), log);
    this.unsubscribe = deps.writer.onCommit(() => {
      // Nobody watching here: the poll keeps the feed's place; other instances still need the wake-up.
      if (this.hub.watchedProducts() > 0) this.read();
      this.wakeup.notify();
    });
  }

  private read(): void {
    this.feed.poke().catch((err: Error) => this.log.warn(`change log not read (will retry): ${err.message}`));
  }

  async start(): Promise<void> {
    await this.feed.start();
    await this.wakeup.start();
    this.poll = setInterval(() => this.read(), POLL_MS);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    if (this.poll) clearInterval(this.poll);
    this.unsubscribe?.();
    this.hub.stop();
    await this.wakeup.stop();
  }
}
