import type { Db } from '../db/connect.ts';
import {
  type AvailabilityRequestRecord,
  countOpenRequests,
  findAvailabilityRequestsByIds,
  findOpenRequests,
} from '../db/repos/alerts.ts';
import {
  countBackordersOfProduct,
  findBackordersByIds,
  findBackordersByLineIds,
  listBackordersOfCustomer,
  listBackordersOfProduct,
  type QueueRank,
  rankBackorders,
  rankWholeQueue,
} from '../db/repos/backorders.ts';
import { findInboundByIds, listOpenInbound } from '../db/repos/inbound.ts';
import {
  countNotifications,
  findNotificationsByIds,
  listNotifications,
  type NotificationRecord,
} from '../db/repos/notifications.ts';
import {
  countOrders,
  findLinesByOrderIds,
  findOrdersByIds,
  listOrders,
  listOrdersOfCustomer,
} from '../db/repos/orders.ts';
import { findProductsByIds, findProductsBySkus, listProductsBySku } from '../db/repos/products.ts';
import { findStockByProductIds, listMovements } from '../db/repos/stock.ts';
import { estimateAvailableAt } from '../domain/availability.ts';
import { backorderEta, toOpenInbound } from '../domain/rules/eta.ts';
import type {
  BackorderRecord,
  BackorderStatusValue,
  InboundRecord,
  MovementRecord,
  OrderLineRecord,
  OrderRecord,
  OrderStatusValue,
  PageWindow,
  ProductRecord,
  StockRecord,
} from '../domain/rules/records.ts';
import type { HeldInputs, HeldValue } from './held-inputs.ts';
import { andThen, both, byKey, groupBy, Loader, type MaybePromise } from './loader.ts';
import type { OperationWork } from './operation-work.ts';
import { WebhookReaders } from './webhooks.ts';

/**
 * Batched, per-request (or per-event) readers: whatever a query selects, each kind of row costs one query
 * per batch. Never share an instance across requests; a live update builds a fresh one per event.
 */
export class Readers {
  // Loaders are made on first use: a subscription's context or event often needs only a few of them.
  #product?: Loader<number, ProductRecord | null>;
  #productBySku?: Loader<string, ProductRecord | null>;
  #stock?: Loader<number, StockRecord | null>;
  #openInbound?: Loader<number, InboundRecord[]>;
  #inbound?: Loader<number, InboundRecord | null>;
  #order?: Loader<number, OrderRecord | null>;
  #orderLines?: Loader<number, OrderLineRecord[]>;
  #backorder?: Loader<number, BackorderRecord | null>;
  #backorderByLine?: Loader<number, BackorderRecord | null>;
  #queueRank?: Loader<number, QueueRank | null>;
  #notification?: Loader<number, NotificationRecord | null>;
  #availabilityRequest?: Loader<number, AvailabilityRequestRecord | null>;
  #openRequests?: Loader<number, number>;
  #viewerRequest?: Loader<string, AvailabilityRequestRecord | null>;
  #webhooks?: WebhookReaders;

  // Products, stock and open inbound pass through the inputs held in memory when there are any
  // (src/read/held-inputs.ts): what availability is computed from costs no statement while it is current.
  get product(): Loader<number, ProductRecord | null> {
    this.#product ??= new Loader<number, ProductRecord | null>(async (ids) =>
      nulls(
        await this.heldThrough('product', ids, async (missing) =>
          byId(await this.read(() => findProductsByIds(this.db, missing)), (r) => r.id),
        ),
      ),
    );
    return this.#product;
  }
  get productBySku(): Loader<string, ProductRecord | null> {
    this.#productBySku ??= new Loader<string, ProductRecord | null>(async (skus) => {
      const fetch = (missing: readonly string[]) => this.read(() => findProductsBySkus(this.db, missing));
      const rows = this.held
        ? await this.held.productsBySku(skus, fetch)
        : byKey(skus, await fetch(skus), (r) => r.sku);
      for (const row of rows) if (row) this.product.prime(row.id, row);
      return nulls(rows);
    });
    return this.#productBySku;
  }
  get stock(): Loader<number, StockRecord | null> {
    this.#stock ??= new Loader<number, StockRecord | null>(async (ids) =>
      nulls(
        await this.heldThrough('stock', ids, async (missing) =>
          byId(await this.read(() => findStockByProductIds(this.db, missing)), (r) => r.productId),
        ),
      ),
    );
    return this.#stock;
  }
  get openInbound(): Loader<number, InboundRecord[]> {
    this.#openInbound ??= new Loader<number, InboundRecord[]>(async (ids) =>
      (
        await this.heldThrough('openInbound', ids, async (missing) => {
          const rows = await this.read(() => listOpenInbound(this.db, missing));
          const grouped = groupBy(missing, rows, (r) => r.productId);
          return new Map(missing.map((id, i) => [id, grouped[i]!]));
        })
      ).map((list) => (list ?? []) as InboundRecord[]),
    );
    return this.#openInbound;
  }

  private heldThrough<K extends 'product' | 'stock' | 'openInbound'>(
    kind: K,
    ids: readonly number[],
    fetch: (missing: readonly number[]) => Promise<Map<number, HeldValue<K>>>,
  ): Promise<(HeldValue<K> | undefined)[]> {
    if (this.held) return this.held.through(kind, ids, fetch);
    return fetch(ids).then((found) => ids.map((id) => found.get(id)));
  }
  get inbound(): Loader<number, InboundRecord | null> {
    this.#inbound ??= new Loader<number, InboundRecord | null>(async (ids) =>
      byKey(ids, await this.read(() => findInboundByIds(this.db, ids)), (r) => r.id),
    );
    return this.#inbound;
  }
  get order(): Loader<number, OrderRecord | null> {
    this.#order ??= new Loader<number, OrderRecord | null>(async (ids) =>
      byKey(ids, await this.read(() => findOrdersByIds(this.db, ids)), (r) => r.id),
    );
    return this.#order;
  }
  get orderLines(): Loader<number, OrderLineRecord[]> {
    this.#orderLines ??= new Loader<number, OrderLineRecord[]>(async (ids) =>
      groupBy(ids, await this.read(() => findLinesByOrderIds(this.db, ids)), (r) => r.orderId),
    );
    return this.#orderLines;
  }
  get backorder(): Loader<number, BackorderRecord | null> {
    this.#backorder ??= new Loader<number, BackorderRecord | null>(async (ids) =>
      byKey(ids, await this.read(() => findBackordersByIds(this.db, ids)), (r) => r.id),
    );
    return this.#backorder;
  }
  get backorderByLine(): Loader<number, BackorderRecord | null> {
    this.#backorderByLine ??= new Loader<number, BackorderRecord | null>(async (ids) => {
      const rows = await this.read(() => findBackordersByLineIds(this.db, ids));
      for (const row of rows) this.backorder.prime(row.id, row);
      return byKey(ids, rows, (r) => r.orderLineId);
    });
    return this.#backorderByLine;
  }
  /** Position in the queue; null once the backorder has left it. */
  get notification(): Loader<number, NotificationRecord | null> {
    this.#notification ??= new Loader<number, NotificationRecord | null>(async (ids) =>
      byKey(ids, await this.read(() => findNotificationsByIds(this.db, ids)), (r) => r.id),
    );
    return this.#notification;
  }
  get availabilityRequest(): Loader<number, AvailabilityRequestRecord | null> {
    this.#availabilityRequest ??= new Loader<number, AvailabilityRequestRecord | null>(async (ids) =>
      byKey(ids, await this.read(() => findAvailabilityRequestsByIds(this.db, ids)), (r) => r.id),
    );
    return this.#availabilityRequest;
  }
  /** Open back-in-stock requests per product. */
  get openRequests(): Loader<number, number> {
    this.#openRequests ??= new Loader<number, number>(async (ids) => {
      const counts = new Map(
        (await this.read(() => countOpenRequests(this.db, ids))).map((r) => [r.productId, r.n]),
      );
      return ids.map((id) => counts.get(id) ?? 0);
    });
    return this.#openRequests;
  }
  /** A customer's open request for a product, keyed `customerId\u0000productId`. */
  get viewerRequest(): Loader<string, AvailabilityRequestRecord | null> {
    this.#viewerRequest ??= new Loader<string, AvailabilityRequestRecord | null>(async (keys) => {
      const byCustomer = new Map<string, number[]>();
      for (const key of keys) {
        const [customerId, productId] = key.split('\u0000') as [string, string];
        byCustomer.set(customerId, [...(byCustomer.get(customerId) ?? []), Number(productId)]);
      }
      const found = new Map<string, AvailabilityRequestRecord>();
      for (const [customerId, productIds] of byCustomer) {
        for (const r of await this.read(() => findOpenRequests(this.db, customerId, productIds))) {
          found.set(`${r.customerId}\u0000${r.productId}`, r);
        }
      }
      return keys.map((k) => found.get(k) ?? null);
    });
    return this.#viewerRequest;
  }
  /** What staff read about webhook endpoints and deliveries. */
  get webhooks(): WebhookReaders {
    this.#webhooks ??= new WebhookReaders(this.db, (query) => this.read(query));
    return this.#webhooks;
  }
  get queueRank(): Loader<number, QueueRank | null> {
    this.#queueRank ??= new Loader<number, QueueRank | null>(async (ids) =>
      byKey(ids, await this.read(() => rankBackorders(this.db, ids)), (r) => r.id),
    );
    return this.#queueRank;
  }

  /** `work`: the operation's reads, refused once it has been answered (none for events and jobs). */
  constructor(
    readonly db: Db,
    readonly work?: OperationWork,
    /** The inputs held by this instance; none for readers that must see the database itself. */
    readonly held?: HeldInputs,
  ) {}

  /** Every query of these readers starts here. */
  private read<T>(query: () => Promise<T>): Promise<T> {
    return this.work ? this.work.track(query) : query();
  }

  async listProducts(page: PageWindow<string>): Promise<ProductRecord[]> {
    const ticket = this.held?.ticket();
    const rows = await this.read(() => listProductsBySku(this.db, page));
    if (ticket !== undefined) this.held!.hold(ticket, rows);
    return this.primed(this.product, rows, (r) => r.id);
  }

  listMovements(productId: number, page: PageWindow<number>): Promise<MovementRecord[]> {
    return this.read(() => listMovements(this.db, productId, page));
  }

  async listOrders(status: OrderStatusValue | null, page: PageWindow<number>): Promise<OrderRecord[]> {
    return this.primed(this.order, await this.read(() => listOrders(this.db, status, page)), (r) => r.id);
  }

  countOrders(status: OrderStatusValue | null): Promise<number> {
    return this.read(() => countOrders(this.db, status));
  }

  async listOrdersOfCustomer(customerId: string, page: PageWindow<number>): Promise<OrderRecord[]> {
    return this.primed(
      this.order,
      await this.read(() => listOrdersOfCustomer(this.db, customerId, page)),
      (r) => r.id,
    );
  }

  async listBackordersOfCustomer(customerId: string, page: PageWindow<number>): Promise<BackorderRecord[]> {
    return this.primed(
      this.backorder,
      await this.read(() => listBackordersOfCustomer(this.db, customerId, page)),
      (r) => r.id,
    );
  }

  async listBackordersOfProduct(
    productId: number,
    statuses: readonly BackorderStatusValue[],
    page: PageWindow<number>,
  ): Promise<BackorderRecord[]> {
    const rows = await this.read(() => listBackordersOfProduct(this.db, productId, statuses, page));
    return this.primed(this.backorder, rows, (r) => r.id);
  }

  async listNotifications(customerId: string, page: PageWindow<number>): Promise<NotificationRecord[]> {
    return this.primed(
      this.notification,
      await this.read(() => listNotifications(this.db, customerId, page)),
      (r) => r.id,
    );
  }

  countNotifications(customerId: string): Promise<{ total: number; unread: number }> {
    return this.read(() => countNotifications(this.db, customerId));
  }

  countBackordersOfProduct(productId: number, statuses: readonly BackorderStatusValue[]): Promise<number> {
    return this.read(() => countBackordersOfProduct(this.db, productId, statuses));
  }

  private primed<K, V>(loader: Loader<K, V | null>, rows: V[], key: (row: V) => K): V[] {
    for (const row of rows) loader.prime(key(row), row);
    return rows;
  }

  /** Ranks a product's whole queue in one query and primes every position: for fan-out to many watchers. */
  async primeQueue(productId: number): Promise<void> {
    for (const rank of await this.read(() => rankWholeQueue(this.db, productId)))
      this.queueRank.prime(rank.id, rank);
  }

  async availabilityEta(product: ProductRecord, quantity: number, now: Date): Promise<Date | null> {
    const [stock, inbound] = await Promise.all([
      this.stock.load(product.id),
      this.openInbound.load(product.id),
    ]);
    if (!stock) return null;
    return estimateAvailableAt(product, stock, inbound.map(toOpenInbound), quantity, now);
  }

  /**
   * When a queued backorder's missing units are covered by the supply that reaches it; null outside the
   * queue. Synchronous when its rank, product and inbound have been read.
   */
  backorderEta(backorder: BackorderRecord, now: Date): MaybePromise<Date | null> {
    return andThen(this.queueRank.get(backorder.id), (rank) => {
      if (!rank) return null;
      const productId = backorder.productId;
      return andThen(
        both(this.product.get(productId), this.openInbound.get(productId)),
        ([product, inbound]) =>
          product ? backorderEta(rank, product.restockLeadTimeDays, inbound, now) : null,
      );
    });
  }

  /**
   * Reads at once what a page of orders will show, one query per kind of row in three round trips (lines;
   * their products, backorders and inbound; the backorders' ranks), so that the page then resolves without
   * a promise per line. `shows` says what the query selects: nothing unselected is read.
   */
  async fillOrders(orderIds: readonly number[], shows: OrderTreeSelection): Promise<void> {
    if (!shows.lines || orderIds.length === 0) return;
    await this.orderLines.fill(orderIds);
    const lines = orderIds.flatMap((id) => this.orderLines.peek(id) ?? []);
    const productIds = lines.map((l) => l.productId);
    await Promise.all([
      shows.products || shows.etas ? this.product.fill(productIds) : null,
      shows.etas ? this.openInbound.fill(productIds) : null,
      shows.backorders
        ? this.backorderByLine.fill(lines.map((l) => l.id)).then(() => {
            if (!shows.ranks && !shows.etas) return;
            const ids = lines.flatMap((l) => this.backorderByLine.peek(l.id)?.id ?? []);
            return this.queueRank.fill(ids);
          })
        : null,
    ]);
  }
}

/** What a query shows of each order on a page: see `Readers.fillOrders`. */
export interface OrderTreeSelection {
  lines: boolean;
  products: boolean;
  backorders: boolean;
  ranks: boolean;
  etas: boolean;
}

/** A batch's rows by product id. */
function byId<V>(rows: readonly V[], id: (row: V) => number): Map<number, V> {
  return new Map(rows.map((row) => [id(row), row]));
}

/** Undefined (nothing found) as the null the loaders answer. */
function nulls<V>(values: readonly (V | undefined)[]): (V | null)[] {
  return values.map((value) => value ?? null);
}
