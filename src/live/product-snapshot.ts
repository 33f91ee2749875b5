import type { Db } from '../db/connect.ts';
import { Readers } from '../read/readers.ts';

/** Where the live hub gets a product's state: lazily for a first message, primed for an event. */
export interface ProductSource {
  /** Readers that load on demand: a new watcher's first message reads what is committed when it resolves. */
  fresh(): Readers;
  /**
   * Readers primed with the product's state now, in a fixed number of queries (product, stock, inbound,
   * and for queue watchers one ranking of the whole queue plus their backorders), however many watch it.
   */
  snapshot(productId: number, backorderIds: number[]): Promise<Readers>;
}

export function productSource(db: Db): ProductSource {
  return {
    fresh: () => new Readers(db),
    async snapshot(productId, backorderIds) {
      const readers = new Readers(db);
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
    },
  };
}
