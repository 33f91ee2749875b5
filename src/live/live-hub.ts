import { type Clock, systemClock } from '../base/clock.ts';
import { LatestValueStream } from '../base/latest-value-stream.ts';
import { OutageLog } from '../base/outage-log.ts';
import type { Readers } from '../read/readers.ts';
import type { ProductSource } from './product-snapshot.ts';

/**
 * One live update of one product as every watcher on this instance sees it: readers primed with the state
 * right after the change. Built once per product per merge window, shared, and never reused for a later
 * change.
 */
export interface ProductUpdate {
  productId: number;
  readers: Readers;
}

/** Watchers served per turn of the event loop during a fan-out. */
const PUSH_BATCH = 250;
/** A failed recomputation is tried again after 50, 100, 200, 400, then every 500 ms while it fails. */
const RETRY_FIRST_MS = 50;
export const RETRY_MAX_MS = 500;

export function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
}

interface Watcher {
  stream: LatestValueStream<ProductUpdate>;
  backorderId: number | null;
}

/** What the hub knows of one watched product. */
interface Watched {
  watchers: Set<Watcher>;
  /** A recomputation is running: the next one waits for it, so snapshots go out in commit order. */
  publishing: boolean;
  /** When its last event went out; the next may not go before the merge window has passed. */
  lastPushAt: number;
  /** Recomputations that failed in a row; the next try waits retryDelay(failures). */
  failures: number;
  retryAt: number;
}

export interface LiveHubOptions {
  mergeWindowMs: number;
  log: { warn(message: string, detail?: unknown): void; info?(message: string): void };
  clock?: Clock;
}

/**
 * Fans committed changes out to the subscriptions of this instance. Each changed product is recomputed
 * once per merge window, however many watch it, and pushed to all of them.
 *
 * Per product there is at most one recomputation at a time: a change that arrives while one runs marks
 * the product dirty and is picked up when it ends, so a product's snapshots are pushed in the order they
 * were taken, never an older one after a newer one. Products do not wait for each other: one whose reads
 * are stuck behind a lock holds up only its own watchers. A recomputation that fails keeps the product
 * dirty and is retried with backoff (at most RETRY_MAX_MS apart) for as long as it fails; the change feed
 * has already moved on, so nothing else would ever bring that product's watchers up to date.
 */
export class LiveHub {
  private readonly products = new Map<number, Watched>();
  /** Products with a change (or a failed recomputation) not yet pushed. */
  private readonly dirty = new Set<number>();
  private readonly failing = new Set<number>();
  private readonly joining = new Map<number, Readers>();
  private readonly clock: Clock;
  private readonly outage: OutageLog;
  private timer: { handle: unknown; at: number } | undefined;
  private stopped = false;
  /** Snapshots built, for benchmarks and tests that count the cost of a fan-out. */
  snapshots = 0;
  /** Events pushed (one per product per merge window), for tests and metrics. */
  flushes = 0;

  constructor(
    private readonly source: ProductSource,
    private readonly options: LiveHubOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.outage = new OutageLog('live update recomputation', options.log, () => this.clock.now());
  }

  /**
   * Watches a product: first the current state (fresh readers, loaded on demand), then one event per merge
   * window in which the product changed.
   */
  watch(productId: number, backorderId: number | null = null): AsyncIterableIterator<ProductUpdate> {
    let product = this.products.get(productId);
    if (!product) {
      product = {
        watchers: new Set(),
        publishing: false,
        lastPushAt: Number.NEGATIVE_INFINITY,
        failures: 0,
        retryAt: 0,
      };
      this.products.set(productId, product);
    }
    const watched = product;
    const watcher: Watcher = {
      backorderId,
      stream: new LatestValueStream<ProductUpdate>(() => {
        watched.watchers.delete(watcher);
        if (watched.watchers.size === 0 && !watched.publishing) this.forget(productId);
      }),
    };
    watched.watchers.add(watcher);
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
      readers = this.source.fresh();
      this.joining.set(productId, readers);
      setImmediate(() => this.joining.delete(productId));
    }
    return readers;
  }

  /** Products watched on this instance (each has at least one watcher). */
  watchedProducts(): number {
    return this.products.size;
  }

  /** Products that changed (from the change feed): each goes out once its merge window allows. */
  changed(productIds: Iterable<number>): void {
    for (const id of productIds) if (this.products.has(id)) this.dirty.add(id);
    this.schedule();
  }

  /** Earliest moment a dirty product may be recomputed: its merge window, or its retry after a failure. */
  private dueAt(product: Watched): number {
    return product.failures > 0 ? product.retryAt : product.lastPushAt + this.options.mergeWindowMs;
  }

  /** One timer, for the earliest dirty product that is not being recomputed already. */
  private schedule(): void {
    if (this.stopped) return;
    let next = Number.POSITIVE_INFINITY;
    for (const id of this.dirty) {
      const product = this.products.get(id);
      if (!product) this.dirty.delete(id);
      else if (!product.publishing) next = Math.min(next, this.dueAt(product));
    }
    if (next === Number.POSITIVE_INFINITY) return;
    const now = this.clock.now();
    const at = Math.max(now, next);
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = {
      at,
      handle: this.clock.setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, at - now),
    };
  }

  private flush(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    for (const id of [...this.dirty]) {
      const product = this.products.get(id);
      if (!product) {
        this.dirty.delete(id);
        continue;
      }
      if (product.publishing || this.dueAt(product) > now) continue;
      this.dirty.delete(id);
      void this.publish(id, product);
    }
    this.schedule();
  }

  private async publish(productId: number, product: Watched): Promise<void> {
    product.publishing = true;
    try {
      const backorderIds = [...product.watchers].flatMap((w) =>
        w.backorderId === null ? [] : [w.backorderId],
      );
      this.snapshots++;
      const event: ProductUpdate = {
        productId,
        readers: await this.source.snapshot(productId, backorderIds),
      };
      product.failures = 0;
      this.failing.delete(productId);
      if (this.failing.size === 0) this.outage.succeeded();
      // The window counts from when messages go out, not from the recompute.
      product.lastPushAt = this.clock.now();
      this.flushes++;
      const watchers = [...product.watchers];
      for (let i = 0; i < watchers.length; i += PUSH_BATCH) {
        // Let each batch's messages reach the sockets before the next batch is executed.
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        for (const watcher of watchers.slice(i, i + PUSH_BATCH)) watcher.stream.push(event);
      }
    } catch (err) {
      // The change feed has moved past this change: keep the product dirty and try again until it works.
      product.failures++;
      product.retryAt = this.clock.now() + retryDelay(product.failures);
      this.failing.add(productId);
      this.dirty.add(productId);
      this.outage.failed(err);
    } finally {
      product.publishing = false;
      if (product.watchers.size === 0) this.forget(productId);
      this.schedule();
    }
  }

  private forget(productId: number): void {
    this.products.delete(productId);
    this.dirty.delete(productId);
    this.failing.delete(productId);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
    for (const product of this.products.values()) for (const w of [...product.watchers]) w.stream.close();
  }
}
