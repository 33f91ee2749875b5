import DataLoader from 'dataloader';

/** A value, or a promise of it: what a resolver may return. */
export type MaybePromise<T> = T | Promise<T>;

/** Applies `f` at once when `value` is already here; only a pending value costs a promise. */
export function andThen<T, R>(value: MaybePromise<T>, f: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** Both values, synchronously when both are here. */
export function both<A, B>(a: MaybePromise<A>, b: MaybePromise<B>): MaybePromise<[A, B]> {
  return a instanceof Promise || b instanceof Promise ? Promise.all([a, b]) : [a, b];
}

/** A batch's rows in the order of its keys, null where none has the key. */
export function byKey<K, V>(keys: readonly K[], rows: readonly V[], key: (row: V) => K): (V | null)[] {
  const map = new Map<K, V>();
  for (const row of rows) map.set(key(row), row);
  return keys.map((k) => map.get(k) ?? null);
}

/** A batch's rows grouped under each key, in the order of the keys. */
export function groupBy<K, V>(keys: readonly K[], rows: readonly V[], key: (row: V) => K): V[][] {
  const map = new Map<K, V[]>();
  for (const row of rows) {
    const list = map.get(key(row));
    if (list) list.push(row);
    else map.set(key(row), [row]);
  }
  return keys.map((k) => map.get(k) ?? []);
}

/**
 * A batching, caching loader (DataLoader) that also remembers the values it has settled, so that `get`
 * answers rows already read without a promise. graphql runs a subtree whose resolvers return plain values
 * without a promise, a microtask and a `Promise.all` per field and object: on a page of thousands of fields
 * that is most of its time and garbage. Fill the loaders first (see `fill`), then resolve synchronously.
 */
export class Loader<K, V> {
  readonly #settled = new Map<K, V>();
  /** Loads on their way; settled values get a promise only when someone asks `load` for one. */
  readonly #pending = new Map<K, Promise<V>>();
  readonly #batch: (keys: readonly K[]) => Promise<V[]>;
  readonly #loader: DataLoader<K, V>;

  constructor(batch: (keys: readonly K[]) => Promise<V[]>) {
    this.#batch = batch;
    const settled = this.#settled;
    const pending = this.#pending;
    this.#loader = new DataLoader<K, V>((keys) => this.#read(keys), {
      cacheMap: {
        get: (key) =>
          pending.get(key) ?? (settled.has(key) ? Promise.resolve(settled.get(key) as V) : undefined),
        set: (key, promise) => void pending.set(key, promise),
        delete: (key) => {
          pending.delete(key);
          settled.delete(key);
        },
        clear: () => {
          pending.clear();
          settled.clear();
        },
      },
    });
  }

  async #read(keys: readonly K[]): Promise<V[]> {
    const values = await this.#batch(keys);
    keys.forEach((key, i) => {
      this.#settled.set(key, values[i] as V);
      this.#pending.delete(key);
    });
    return values;
  }

  /** The value if it has been read or primed, else a promise of it (batched with the other loads). */
  get(key: K): MaybePromise<V> {
    return this.#settled.has(key) ? (this.#settled.get(key) as V) : this.#loader.load(key);
  }

  load(key: K): Promise<V> {
    return this.#loader.load(key);
  }

  async loadMany(keys: readonly K[]): Promise<V[]> {
    const values = await this.#loader.loadMany(keys);
    const failed = values.find((v) => v instanceof Error);
    if (failed) throw failed;
    return values as V[];
  }

  /**
   * Reads, in one query, every key neither read nor on its way, and waits for those on their way: then
   * `get` answers all of them at once. No promise per key.
   */
  async fill(keys: Iterable<K>): Promise<void> {
    const missing: K[] = [];
    const waiting: Promise<V>[] = [];
    for (const key of new Set(keys)) {
      if (this.#settled.has(key)) continue;
      const onItsWay = this.#pending.get(key);
      if (onItsWay) waiting.push(onItsWay);
      else missing.push(key);
    }
    await Promise.all([missing.length > 0 ? this.#read(missing) : null, ...waiting]);
  }

  /** The settled value, or undefined when the key has not been read yet. */
  peek(key: K): V | undefined {
    return this.#settled.get(key);
  }

  /** Like DataLoader's: a key already read or on its way keeps its value. */
  prime(key: K, value: V): this {
    if (!this.#pending.has(key) && !this.#settled.has(key)) this.#settled.set(key, value);
    return this;
  }

  clear(key: K): this {
    this.#loader.clear(key);
    return this;
  }
}
