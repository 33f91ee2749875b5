import { BufferedStream } from '../base/buffered-stream.ts';
import { OutageLog } from '../base/outage-log.ts';
import { SingleFlight } from '../base/single-flight.ts';
import type { Db } from '../db/connect.ts';
import {
  latestNotificationId,
  type NotificationRecord,
  notificationsAfter,
} from '../db/repos/notifications.ts';

/**
 * Pushes new notifications to the customers watching their feed on this instance. The change feed says
 * when notifications were added (on any instance); one query then fetches the new ones of every customer
 * watched here, however many sockets they have.
 */
export class NotificationHub {
  private readonly watchers = new Map<string, Set<BufferedStream<NotificationRecord>>>();
  /** Every notification up to this id has been pushed (or belonged to nobody watching here). */
  private seen = 0;
  private readonly reads = new SingleFlight(async () => {
    try {
      await this.readOnce();
      this.outage.succeeded();
    } catch (err) {
      // The position stays: the next change (or poll) reads from there again.
      this.outage.failed(err);
    }
  });
  private readonly outage: OutageLog;

  constructor(
    private readonly db: Db,
    log: { info?(message: string): void; warn(message: string, detail?: unknown): void },
  ) {
    this.outage = new OutageLog('reading new notifications', log);
  }

  async start(): Promise<void> {
    this.seen = await latestNotificationId(this.db);
  }

  watch(customerId: string): AsyncIterableIterator<NotificationRecord> {
    const set = this.watchers.get(customerId) ?? new Set();
    this.watchers.set(customerId, set);
    const stream: BufferedStream<NotificationRecord> = new BufferedStream(() => {
      set.delete(stream);
      if (set.size === 0) this.watchers.delete(customerId);
    });
    set.add(stream);
    return stream;
  }

  /** New notifications exist somewhere; calls while a read runs fold into one more read after it. */
  changed(): Promise<void> {
    return this.reads.run();
  }

  private async readOnce(): Promise<void> {
    if (this.watchers.size === 0) {
      this.seen = await latestNotificationId(this.db);
      return;
    }
    const rows = await notificationsAfter(this.db, this.seen, [...this.watchers.keys()]);
    for (const row of rows) {
      for (const stream of this.watchers.get(row.customerId) ?? []) stream.push(row);
      this.seen = Math.max(this.seen, row.id);
    }
    if (rows.length === 0) this.seen = Math.max(this.seen, await latestNotificationId(this.db));
  }

  stop(): void {
    for (const set of this.watchers.values()) for (const stream of [...set]) stream.close();
  }
}
