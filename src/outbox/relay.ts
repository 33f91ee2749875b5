import { type Clock, systemClock } from '../base/clock.ts';
import { OutageLog } from '../base/outage-log.ts';
import { SingleFlight } from '../base/single-flight.ts';
import { type QueueRank, rankWholeQueue } from '../db/repos/backorders.ts';
import { readEventsAfter, type StoredEvent } from '../db/repos/changes.ts';
import { insertNotifications } from '../db/repos/notifications.ts';
import {
  type EtaNotice,
  findEtaNotices,
  insertOutboxEvents,
  lockRelayCursor,
  moveRelayCursor,
  type NewOutboxEvent,
  reserveSubjectSequences,
  saveEtaNotices,
} from '../db/repos/outbox.ts';
import type { Writer, WriteTx } from '../db/transaction.ts';
import { backorderEtaBasis, type EtaBasis, etaAt, etaMoveToTell, movesEtas } from '../domain/rules/eta.ts';
import { PAYLOAD_VERSION } from '../domain/rules/public-events.ts';
import { HOLE_TTL_MS } from '../live/change-feed.ts';
import { globalId } from '../read/global-id.ts';
import { Readers } from '../read/readers.ts';
import { isCustomerEvent, notificationMessage } from './projections/notification-messages.ts';
import { type PublicEventDraft, publicEventsOf } from './projections/public-events.ts';
import { backorderState } from './projections/public-state.ts';

/** Source events relayed per transaction. */
const BATCH = 500;

export interface OutboxRelayOptions {
  /** How far an ETA must move before the customer's systems hear of it. */
  etaMarginMs: number;
  /** How often the log is read without a poke (other instances' writes). */
  pollMs: number;
  log: { info?(message: string): void; warn(message: string, detail?: unknown): void };
  clock?: Clock;
}

const toBasis = (n: { eta: Date | null; leadDays: number | null }): EtaBasis =>
  n.eta ? { at: n.eta } : n.leadDays !== null ? { leadDays: n.leadDays } : null;
const toNotice = (backorderId: number, basis: EtaBasis, notifiedAt: Date): EtaNotice => ({
  backorderId,
  eta: basis && 'at' in basis ? basis.at : null,
  leadDays: basis && 'leadDays' in basis ? basis.leadDays : null,
  notifiedAt,
});

/**
 * Turns committed domain events into public events, in order, right after commit: reads the event log
 * from its cursor, builds each public event with the full state of its subject, numbers it within its
 * subject, stores it with the exact bytes every delivery will send, and queues a delivery per subscribed
 * endpoint, all in one transaction with the cursor's move. One instance relays at a time (the cursor's
 * row lock); a relay that dies leaves the cursor where it was, and the next one repeats the batch with the
 * same event ids.
 */
export class OutboxRelay {
  private readonly runs = new SingleFlight(() => this.relayAll());
  private timer: unknown;
  private stopped = false;
  private readonly clock: Clock;
  private readonly outage: OutageLog;
  /** Sequence numbers missing below a newer event, and when they were first seen missing. */
  private readonly holes = new Map<number, number>();
  relayed = 0;
  /** Told after a batch queued deliveries, so workers send them at once. */
  onDeliveries: (() => void) | undefined;

  /** `writer`: the relay's batches are writes like any other (their notifications are recorded events). */
  constructor(
    private readonly writer: Writer,
    private readonly options: OutboxRelayOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.outage = new OutageLog('relaying events to webhooks', options.log, () => this.clock.now());
  }

  start(): void {
    this.schedule(0);
  }

  /** Relays whatever is new; calls made while a relay runs are folded into one more run after it. */
  poke(): Promise<void> {
    return this.stopped ? Promise.resolve() : this.runs.run();
  }

  private async relayAll(): Promise<void> {
    try {
      // A full batch means more is waiting: go on at once.
      while ((await this.relayOnce()) === BATCH && !this.stopped) {}
      this.outage.succeeded();
    } catch (err) {
      this.outage.failed(err);
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(async () => {
      await this.poke();
      this.schedule(this.options.pollMs);
    }, ms);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    await this.runs.current;
  }

  /** One batch in one transaction; returns how many source events it relayed (0: nothing, or busy). */
  async relayOnce(): Promise<number> {
    const { relayed, deliveries } = await this.writer.run(async (tx) => {
      const cursor = await lockRelayCursor(tx);
      if (cursor === null) return { relayed: 0, deliveries: 0 };
      const ready = this.inOrder(cursor, await readEventsAfter(tx.trx, cursor, BATCH));
      if (ready.length === 0) return { relayed: 0, deliveries: 0 };
      const now = new Date(this.clock.now());
      const readers = new Readers(tx.trx);
      const drafts = (await Promise.all(ready.map((e) => publicEventsOf(readers, e, now)))).flat();
      drafts.push(...(await this.etaMoves(tx, readers, ready, drafts, now)));
      const deliveries = await insertOutboxEvents(tx, await numbered(tx, drafts, now));
      await addToFeeds(tx, readers, drafts);
      await moveRelayCursor(tx, ready.at(-1)!.seq);
      return { relayed: ready.length, deliveries };
    });
    this.relayed += relayed;
    if (deliveries > 0) this.onDeliveries?.();
    return relayed;
  }

  /**
   * The events that can be relayed now, in sequence order. A sequence number below a newer event can
   * belong to a transaction still committing: wait for it, unless it has been missing so long that it
   * was rolled back. (Events of one product never race this way: their writers share the stock lock.)
   */
  private inOrder(cursor: number, events: StoredEvent[]): StoredEvent[] {
    const ready: StoredEvent[] = [];
    let expected = cursor + 1;
    const now = this.clock.now();
    for (const event of events) {
      for (; expected < event.seq; expected++) {
        const since = this.holes.get(expected) ?? now;
        this.holes.set(expected, since);
        if (now - since < HOLE_TTL_MS) return ready;
      }
      for (const seq of this.holes.keys()) if (seq <= event.seq) this.holes.delete(seq);
      ready.push(event);
      expected = event.seq + 1;
    }
    return ready;
  }

  /**
   * ETA moves, per product whose supply, lead time or queue changed in this batch: every queued
   * backorder's ETA basis now against the one its customer was last told. A move of at least the margin
   * is announced (at most once an hour per backorder); a new backorder's first basis is recorded quietly.
   */
  private async etaMoves(
    tx: WriteTx,
    readers: Readers,
    events: StoredEvent[],
    drafts: PublicEventDraft[],
    now: Date,
  ): Promise<PublicEventDraft[]> {
    const lastSeq = new Map<number, number>();
    for (const { seq, event } of events) {
      const productId = movesEtas(event);
      if (productId !== null) lastSeq.set(productId, seq);
    }
    const moved: PublicEventDraft[] = [];
    // A new backorder's first basis is what backorder.created told: it does not count against the hourly
    // limit. (Read from the readers that built the event, so it costs no query.)
    const notices: EtaNotice[] = await Promise.all(
      drafts
        .filter((d) => d.type === 'backorder.created')
        .map(async (d) => {
          const id = Number(d.subject.slice('backorder:'.length));
          const [rank, product, inbound] = await Promise.all([
            readers.queueRank.load(id),
            readers.product.load(d.productId),
            readers.openInbound.load(d.productId),
          ]);
          return toNotice(
            id,
            backorderEtaBasis(rank, product?.restockLeadTimeDays ?? null, inbound),
            new Date(0),
          );
        }),
    );
    const told = new Set(notices.map((n) => n.backorderId));
    // Products and their inbound for every queue below, one query each rather than per product.
    const productIds = [...lastSeq.keys()];
    await Promise.all([readers.product.fill(productIds), readers.openInbound.fill(productIds)]);
    for (const [productId, seq] of lastSeq) {
      const [product, inbound, queue] = await Promise.all([
        readers.product.load(productId),
        readers.openInbound.load(productId),
        rankWholeQueue(tx.trx, productId),
      ]);
      if (!product) continue;
      const known = new Map(
        (
          await findEtaNotices(
            tx.trx,
            queue.map((r) => r.id),
          )
        ).map((n) => [n.backorderId, n]),
      );
      const movedHere: { rank: QueueRank; basis: EtaBasis; notice: EtaNotice }[] = [];
      for (const rank of queue) {
        const basis = backorderEtaBasis(rank, product.restockLeadTimeDays, inbound);
        const notice = known.get(rank.id);
        if (!notice) {
          if (!told.has(rank.id)) notices.push(toNotice(rank.id, basis, new Date(0)));
          continue;
        }
        const last = { basis: toBasis(notice), notifiedAt: notice.notifiedAt };
        if (!etaMoveToTell(last, basis, now, this.options.etaMarginMs)) continue;
        readers.queueRank.prime(rank.id, rank);
        movedHere.push({ rank, basis, notice });
      }
      // The moved backorders' rows in one query, not one per backorder.
      await readers.backorder.fill(movedHere.map((m) => m.rank.id));
      for (const { rank, basis, notice } of movedHere) {
        const state = await backorderState(readers, rank.id, now);
        if (!state) continue;
        notices.push(toNotice(rank.id, basis, now));
        moved.push({
          id: `evt_${seq}_backorder.eta_moved_${rank.id}`,
          type: 'backorder.eta_moved',
          sourceSeq: seq,
          subject: `backorder:${rank.id}`,
          customerId: state.customerId,
          productId,
          data: {
            backorder: state,
            previousEstimatedAvailableAt: etaAt(toBasis(notice), now)?.toISOString() ?? null,
          },
        });
      }
    }
    await saveEtaNotices(tx, notices);
    return moved;
  }
}

/** Numbers each draft within its subject and writes the exact body every delivery will send. */
async function numbered(tx: WriteTx, drafts: PublicEventDraft[], now: Date): Promise<NewOutboxEvent[]> {
  const counts = new Map<string, number>();
  for (const d of drafts) counts.set(d.subject, (counts.get(d.subject) ?? 0) + 1);
  const last = await reserveSubjectSequences(tx, counts);
  const next = new Map<string, number>();
  for (const [subject, n] of counts) next.set(subject, last.get(subject)! - n + 1);
  return drafts.map((d) => {
    const sequence = next.get(d.subject)!;
    next.set(d.subject, sequence + 1);
    const body = JSON.stringify({
      id: d.id,
      type: d.type,
      timestamp: now.toISOString(),
      version: PAYLOAD_VERSION,
      subject: d.subject,
      sequence,
      customerId: d.customerId,
      productId: globalId('Product', d.productId),
      data: d.data,
    });
    return {
      id: d.id,
      type: d.type,
      sourceSeq: d.sourceSeq,
      subject: d.subject,
      sequence,
      customerId: d.customerId,
      productId: d.productId,
      body,
    };
  });
}

/**
 * Puts every event about a customer into that customer's feed, and records which notifications are new:
 * every instance's change feed reads the event and pushes them to its own sockets.
 */
async function addToFeeds(tx: WriteTx, readers: Readers, drafts: PublicEventDraft[]): Promise<void> {
  const notifications = await Promise.all(
    drafts.filter(isCustomerEvent).map(async (d) => {
      const [kind, id] = d.subject.split(':');
      // The backorder was loaded to build the event: its order costs no query.
      const backorder = kind === 'backorder' ? await readers.backorder.load(Number(id)) : null;
      return {
        customerId: d.customerId!,
        eventId: d.id,
        type: d.type,
        message: notificationMessage(d),
        productId: d.productId,
        orderId: kind === 'order' ? Number(id) : (backorder?.orderId ?? null),
        backorderId: kind === 'backorder' ? Number(id) : null,
      };
    }),
  );
  const added = await insertNotifications(tx, notifications);
  if (added) tx.record({ type: 'NotificationsAdded', ...added });
}
