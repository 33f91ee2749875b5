import type { Db } from '../db/connect.ts';
import { Readers } from '../domain/readers.ts';
import { LatestValueStream } from './latest-value-stream.ts';

/**
 * One event of one product as every watcher on this instance sees it: readers primed with the state right
 * after the change. Built once per product per merge window, shared, and never reused for a later event.
 */
export interface ProductEvent {
  productId: number;
  readers: Readers;
}

/** Watchers served per turn of the event loop during a fan-out. */
const PUSH_BATCH = 250;

interface Watcher {
  stream: LatestValueStream<ProductEvent>;
  backorderId: number | null;
}

/**
 * Fans committed changes out to the subscriptions of this instance. Each changed product is recomputed
 * once per merge window in a fixed number of queries (product, stock, inbound, and for queue watchers one
 * ranking of the whole queue plus their backorders), however many watch it.
 */
export class LiveHub {
  private readonly watchers = new Map<number, Set<Watcher>>();
  private readonly pending = new Set<number>();
  private readonly joining = new Map<number, Readers>();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  /** Snapshots built, for benchmarks and tests that count the cost of a fan-out. */
  snapshots = 0;

  constructor(
    private readonly db: Db,
    private readonly mergeWindowMs: number,
    private readonly log: { error(message: string, detail?: unknown): void },
  ) {}

  /**
   * Watches a product: first the current state (fresh readers, loaded on demand), then one event per merge
   * window in which the product changed.
   */
  watch(productId: number, backorderId: number | null = null): AsyncIterableIterator<ProductEvent> {
    const watcher: Watcher = {
      backorderId,
      stream: new LatestValueStream<ProductEvent>(() => {
        const set = this.watchers.get(productId);
        set?.delete(watcher);
        if (set?.size === 0) this.watchers.delete(productId);
      }),
    };
    const set = this.watchers.get(productId) ?? new Set<Watcher>();
    this.watchers.set(productId, set);
    set.add(watcher);
    watcher.stream.push({ productId, readers: this.freshReaders(productId) });
    return watcher.stream;
  }

  /**
   * Readers made now for the first message of the watchers that subscribe in this turn of the event loop:
   * they share one fresh read (and its memory), and their loads batch together.
   */
  private freshReaders(productId: number): Readers {
    let readers = this.joining.get(productId);
    if (!readers) {
      readers = new Readers(this.db);
      this.joining.set(productId, readers);
      setImmediate(() => this.joining.delete(productId));
    }
    return readers;
  }

  /** Products watched on this instance (each has at least one watcher). */
  watchedProducts(): number {
    return this.watchers.size;
  }

  /** Products that changed (from the change feed). Merged until the window allows the next flush. */
  changed(productIds: Iterable<number>): void {
    for (const id of productIds) if (this.watchers.has(id)) this.pending.add(id);
    if (this.pending.size === 0 || this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastFlush + this.mergeWindowMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    this.lastFlush = Date.now();
    const products = [...this.pending];
    this.pending.clear();
    this.flushing = Promise.all(products.map((id) => this.publish(id))).then(() => undefined);
    await this.flushing;
    this.flushing = undefined;
    if (this.pending.size > 0) this.changed([]);
  }

  private async publish(productId: number): Promise<void> {
    const set = this.watchers.get(productId);
    if (!set || set.size === 0) return;
    try {
      const backorderIds = [...set].flatMap((w) => (w.backorderId === null ? [] : [w.backorderId]));
      const readers = await this.snapshot(productId, backorderIds);
      const event: ProductEvent = { productId, readers };
      // The window is kept between messages, so it counts from when they go out, not from the recompute.
      this.lastFlush = Date.now();
      const watchers = [...(this.watchers.get(productId) ?? [])];
      for (let i = 0; i < watchers.length; i += PUSH_BATCH) {
        // Let each batch's messages reach the sockets before the next batch is executed.
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const watcher of watchers.slice(i, i + PUSH_BATCH)) watcher.stream.push(event);
      }
    } catch (err) {
      // The next change (or the next poll) retries; a failed recomputation never ends a subscription.
      this.log.error(`live update of product ${productId} failed`, err);
    }
  }

  private async snapshot(productId: number, backorderIds: number[]): Promise<Readers> {
    this.snapshots++;
    const readers = new Readers(this.db);
    await Promise.all([
      readers.product.load(productId),
      readers.stock.load(productId),
      readers.openInbound.load(productId),
      ...(backorderIds.length > 0
        ? [readers.primeQueue(productId), readers.backorder.loadMany(backorderIds)]
        : []),
    ]);
    // Backorders outside the queue have no rank: say so, rather than let each watcher ask the database.
    for (const id of backorderIds) readers.queueRank.prime(id, null);
    return readers;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const set of this.watchers.values()) for (const w of [...set]) w.stream.close();
  }
}
