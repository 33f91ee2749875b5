import type { InboundRecord, ProductRecord, StockRecord } from '../domain/rules/records.ts';

/** What availability is computed from, per product: the product, its stock counters, its open inbound. */
interface Held {
  product?: ProductRecord;
  stock?: StockRecord;
  openInbound?: readonly InboundRecord[];
}
type Kind = keyof Held;
/** What is held of one kind. */
export type HeldValue<K extends Kind> = NonNullable<Held[K]>;

/** Products held when the configuration does not say (READ_CACHE_PRODUCTS). */
export const HELD_PRODUCTS_DEFAULT = 10_000;

/** Products whose last invalidation is remembered at most; past it, reads begun before are not held. */
const REMEMBERED_INVALIDATIONS = 100_000;

/**
 * The rows availability is computed from, held in this instance's memory so that a storefront's reads
 * cost no statement, and dropped per product as soon as this instance learns of a change to it: at once
 * for its own commits, within the change feed's poll (500 ms) for other instances'. Time-dependent fields
 * are computed per request from what is held; nothing specific to a caller is held.
 *
 * A read that began before an invalidation of its product is never held, whenever it ends: each read takes
 * a ticket (the count of invalidations so far), and a value is stored only if its product was not
 * invalidated after the ticket. At most `maxProducts` products are held; the least recently used go first.
 */
export class HeldInputs {
  readonly #held = new Map<number, Held>();
  readonly #bySku = new Map<string, number>();
  /** Invalidations so far: a read's ticket. */
  #count = 0;
  /** Per product, the count at its last invalidation. */
  readonly #invalidatedAt = new Map<number, number>();
  /** Reads whose ticket is below this are not held: the invalidations before it were forgotten. */
  #forgottenBelow = 0;
  #paused = false;
  hits = 0;
  misses = 0;

  constructor(readonly maxProducts: number) {}

  get size(): number {
    return this.#held.size;
  }

  /** Drops what is held of these products; reads of them under way are not held when they end. */
  invalidate(productIds: Iterable<number>): void {
    this.#count++;
    if (this.#invalidatedAt.size >= REMEMBERED_INVALIDATIONS) {
      this.#invalidatedAt.clear();
      this.#forgottenBelow = this.#count;
    }
    for (const id of productIds) {
      this.#invalidatedAt.set(id, this.#count);
      this.#drop(id);
    }
  }

  /**
   * Drops everything and holds nothing more until `resume`: while changes may go unseen (the change log
   * cannot be read), nothing held could be trusted.
   */
  pause(): void {
    this.#paused = true;
    this.clear();
  }

  resume(): void {
    this.#paused = false;
  }

  /** Drops everything: after the instance may have missed changes. */
  clear(): void {
    this.#count++;
    this.#invalidatedAt.clear();
    this.#forgottenBelow = this.#count;
    this.#held.clear();
    this.#bySku.clear();
  }

  /**
   * Values of one kind for `ids`: those held at once, the rest fetched together (`fetch` returns what it
   * found, by product id) and held unless their product changed meanwhile. Undefined where nothing exists.
   */
  through<K extends Kind>(
    kind: K,
    ids: readonly number[],
    fetch: (missing: readonly number[]) => Promise<Map<number, HeldValue<K>>>,
  ): Promise<(HeldValue<K> | undefined)[]> {
    return this.#readThrough(
      ids,
      (id) => this.#get(id)?.[kind] as HeldValue<K> | undefined,
      fetch,
      (ticket, fetched) => {
        for (const [id, value] of fetched) this.#store(ticket, id, kind, value);
      },
    );
  }

  /** Products by sku: held ones at once, the rest fetched together and held as `through` holds them. */
  productsBySku(
    skus: readonly string[],
    fetch: (missing: readonly string[]) => Promise<readonly ProductRecord[]>,
  ): Promise<(ProductRecord | undefined)[]> {
    return this.#readThrough(
      skus,
      (sku) => {
        const id = this.#bySku.get(sku);
        return id === undefined ? undefined : this.#get(id)?.product;
      },
      async (missing) => new Map((await fetch(missing)).map((row) => [row.sku, row])),
      (ticket, fetched) => {
        for (const row of fetched.values()) this.#store(ticket, row.id, 'product', row);
      },
    );
  }

  /** Rows read elsewhere (a page of products), held on the same terms. */
  hold(ticket: number, rows: readonly ProductRecord[]): void {
    for (const row of rows) this.#store(ticket, row.id, 'product', row);
  }

  /** The ticket of a read about to begin, for `hold`. */
  ticket(): number {
    return this.#count;
  }

  /** What is held of `keys` at once; the rest fetched together under one ticket and kept by `keep`. */
  async #readThrough<Key, V>(
    keys: readonly Key[],
    held: (key: Key) => V | undefined,
    fetch: (missing: readonly Key[]) => Promise<Map<Key, V>>,
    keep: (ticket: number, fetched: Map<Key, V>) => void,
  ): Promise<(V | undefined)[]> {
    const found = keys.map(held);
    const missing = keys.filter((_, i) => found[i] === undefined);
    this.hits += keys.length - missing.length;
    if (missing.length === 0) return found;
    this.misses += missing.length;
    const ticket = this.#count;
    const fetched = await fetch(missing);
    keep(ticket, fetched);
    return keys.map((key, i) => found[i] ?? fetched.get(key));
  }

  #get(id: number): Held | undefined {
    const held = this.#held.get(id);
    if (held) {
      // Most recently used last: the first in the map is the next to go.
      this.#held.delete(id);
      this.#held.set(id, held);
    }
    return held;
  }

  #store<K extends Kind>(ticket: number, id: number, kind: K, value: HeldValue<K>): void {
    if (this.maxProducts === 0 || this.#paused || ticket < this.#forgottenBelow) return;
    if ((this.#invalidatedAt.get(id) ?? -1) > ticket) return;
    let held = this.#held.get(id);
    if (!held) {
      if (this.#held.size >= this.maxProducts) this.#drop(this.#held.keys().next().value!);
      held = {};
      this.#held.set(id, held);
    }
    // Shared by every request from now on: records are never changed once read (the relay plugin only
    // brands a node with its type, the same every time).
    held[kind] = value as Held[K];
    if (kind === 'product') this.#bySku.set((value as ProductRecord).sku, id);
  }

  #drop(id: number): void {
    const held = this.#held.get(id);
    if (!held) return;
    this.#held.delete(id);
    if (held.product && this.#bySku.get(held.product.sku) === id) this.#bySku.delete(held.product.sku);
  }
}
