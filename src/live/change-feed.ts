import { SingleFlight } from '../base/single-flight.ts';
import type { Db } from '../db/connect.ts';
import { latestEventSeq, readChangesAfter } from '../db/repos/changes.ts';

const BATCH = 5_000;
/**
 * A sequence hole older than this is a rolled-back write, not a slow commit. The change-log rows travel in
 * the same round trip as COMMIT, so a real one fills within milliseconds; this is far beyond any commit.
 */
export const HOLE_TTL_MS = 30_000;

/**
 * Reads the durable change log in order and reports each change once. Sequence numbers are drawn before
 * commit, so a lower one can become visible after a higher one: holes below the newest seen number are
 * re-read until they fill in or are old enough to be a rollback. Nothing committed is ever skipped.
 */
export class ChangeFeed {
  /** Every seq <= floor has been reported or given up on. */
  private floor = 0;
  private readonly seenAbove = new Set<number>();
  private readonly holes = new Map<number, number>();
  private readonly reads = new SingleFlight(() => this.readOnce());
  queries = 0;
  /** Told how old each change is when first read (commit to delivery here), for the lag metric. */
  onDelivered: ((ageMs: number) => void) | undefined;

  constructor(
    private readonly db: Db,
    /** Products that changed, and whether customers' feeds gained notifications. */
    private readonly onChanges: (productIds: Set<number>, notifications: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every change up to this sequence number has been reported, or given up on as rolled back. */
  get position(): number {
    return this.floor;
  }

  /** Sequence numbers below the newest seen that have not appeared yet (a commit still under way). */
  get openHoles(): number {
    return this.holes.size;
  }

  /** Starts after what is already in the log: subscribers load the current state themselves. */
  async start(): Promise<void> {
    this.floor = await latestEventSeq(this.db);
    this.queries++;
  }

  /** Reads whatever is new; calls made while a read runs are folded into one more read after it. */
  poke(): Promise<void> {
    return this.reads.run();
  }

  private async readOnce(): Promise<void> {
    const changed = new Set<number>();
    let notifications = false;
    let after = this.floor;
    for (;;) {
      const rows = await readChangesAfter(this.db, after, BATCH);
      this.queries++;
      for (const row of rows) {
        if (this.seenAbove.has(row.seq) || row.seq <= this.floor) continue;
        this.seenAbove.add(row.seq);
        this.holes.delete(row.seq);
        this.onDelivered?.(row.ageMs);
        for (const id of row.productIds) changed.add(id);
        if (row.type === 'NotificationsAdded') notifications = true;
      }
      const top = rows.at(-1)?.seq ?? after;
      for (let seq = this.floor + 1; seq < top; seq++) {
        if (!this.seenAbove.has(seq) && !this.holes.has(seq)) this.holes.set(seq, this.now());
      }
      this.advanceFloor();
      if (rows.length < BATCH) break;
      after = top;
    }
    if (changed.size > 0 || notifications) this.onChanges(changed, notifications);
  }

  private advanceFloor(): void {
    const expired = this.now() - HOLE_TTL_MS;
    for (;;) {
      const next = this.floor + 1;
      if (this.seenAbove.delete(next)) {
        this.floor = next;
        continue;
      }
      const since = this.holes.get(next);
      if (since !== undefined && since <= expired) {
        this.holes.delete(next);
        this.floor = next;
        continue;
      }
      break;
    }
  }
}
