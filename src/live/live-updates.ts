import { type Clock, systemClock } from '../base/clock.ts';
import { OutageLog } from '../base/outage-log.ts';
import type { Db } from '../db/connect.ts';
import { Wakeup } from '../db/wakeup.ts';
import { type DomainEvent, productsOf } from '../domain/rules/domain-events.ts';
import type { HeldInputs } from '../read/held-inputs.ts';
import { ChangeFeed } from './change-feed.ts';
import { LiveHub } from './live-hub.ts';
import { NotificationHub } from './notification-hub.ts';
import { productSource } from './product-snapshot.ts';

/** How often the change log is read without a wake-up: the bound on latency when wake-ups are lost. */
export const POLL_MS = 500;

type Log = { info(message: string): void; warn(message: string, detail?: unknown): void };

/**
 * The event flow of one instance:
 * write commits (change log row in the same transaction) -> local feed read + one coalesced NOTIFY ->
 * every instance's listener wakes its feed -> feed reads the change log in order -> hub merges per window,
 * recomputes each product once, pushes to its watchers. A timer reads the feed too, so a lost wake-up only
 * costs latency. When the database fails, each step keeps its place and tries again: the feed re-reads
 * from where it stopped, the hub retries the products it could not recompute, the listener reconnects.
 */
export class LiveUpdates {
  readonly hub: LiveHub;
  /** Customers' notification feeds watched on this instance. */
  readonly notifications: NotificationHub;
  readonly feed: ChangeFeed;
  readonly wakeup: Wakeup;
  private readonly held: HeldInputs | undefined;
  private poll: unknown;
  private stopped = false;
  private readonly clock: Clock;
  private readonly feedOutage: OutageLog;

  constructor(
    deps: {
      db: Db;
      url: string;
      /** Where wake-ups are sent from: any connection outside the write transactions. */
      pool: { query(text: string): Promise<unknown> };
      mergeWindowMs: number;
      /** Inputs held in memory: dropped per product as changes are learnt, before any is recomputed. */
      held?: HeldInputs;
      clock?: Clock;
    },
    log: Log,
  ) {
    this.clock = deps.clock ?? systemClock;
    const now = () => this.clock.now();
    this.hub = new LiveHub(productSource(deps.db), {
      mergeWindowMs: deps.mergeWindowMs,
      log,
      clock: this.clock,
    });
    this.notifications = new NotificationHub(deps.db, log);
    this.feed = new ChangeFeed(
      deps.db,
      (ids, notifications) => {
        if (ids.size > 0) {
          this.held?.invalidate(ids);
          this.hub.changed(ids);
        }
        if (notifications) void this.notifications.changed();
      },
      now,
    );
    this.held = deps.held;
    this.feedOutage = new OutageLog('reading the change log', log, now);
    this.wakeup = new Wakeup(deps.url, deps.pool, () => this.read(), log, this.clock);
  }

  /** After a commit on this instance: read it here at once if anyone here may care, and wake the others. */
  committed(events: readonly DomainEvent[]): void {
    if (this.stopped) return;
    // This instance answers its own writes at once: what it held of the products is dropped now.
    this.held?.invalidate(events.flatMap(productsOf));
    // Nobody watching here: the poll keeps the feed's place; other instances still need the wake-up.
    if (this.hub.watchedProducts() > 0 || events.some((e) => e.type === 'NotificationsAdded'))
      void this.read();
    this.wakeup.notify();
  }

  /** Reads the change log now; a failure is logged once per outage, and the next poll tries again. */
  read(): Promise<void> {
    return this.feed.poke().then(
      () => {
        this.held?.resume();
        this.feedOutage.succeeded();
      },
      (err: Error) => {
        // Changes may go unseen while the log cannot be read: hold nothing that could be stale.
        this.held?.pause();
        this.feedOutage.failed(err);
      },
    );
  }

  async start(): Promise<void> {
    await this.notifications.start();
    await this.feed.start();
    await this.wakeup.start();
    this.schedulePoll();
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.poll = this.clock.setTimeout(() => {
      void this.read();
      this.schedulePoll();
    }, POLL_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poll !== undefined) this.clock.clearTimeout(this.poll);
    this.hub.stop();
    this.notifications.stop();
    await this.wakeup.stop();
  }
}
