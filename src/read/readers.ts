import DataLoader from 'dataloader';
import type { Db } from '../db/connect.ts';
import type {
  BackorderRecord,
  InboundRecord,
  MovementRecord,
  OrderLineRecord,
  OrderRecord,
  PageWindow,
  ProductRecord,
  StockRecord,
} from '../db/records.ts';
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
import type { BackorderStatusValue, OrderStatusValue } from '../db/types.ts';
import { estimateAvailableAt } from '../domain/availability.ts';
import { backorderEta, toOpenInbound } from '../domain/eta.ts';

function byKey<K, V>(keys: readonly K[], rows: readonly V[], key: (row: V) => K): (V | null)[] {
  const map = new Map<K, V>();
  for (const row of rows) map.set(key(row), row);
  return keys.map((k) => map.get(k) ?? null);
}

function groupBy<K, V>(keys: readonly K[], rows: readonly V[], key: (row: V) => K): V[][] {
  const map = new Map<K, V[]>();
  for (const row of rows) {
    const list = map.get(key(row));
    if (list) list.push(row);
    else map.set(key(row), [row]);
  }
  return keys.map((k) => map.get(k) ?? []);
}

/**
 * Batched, per-request (or per-event) readers: whatever a query selects, each kind of row costs one query
 * per batch. Never share an instance across requests; a live update builds a fresh one per event.
 */
export class Readers {
  // Loaders are made on first use: a subscription's context or event often needs only a few of them.
  #product?: DataLoader<number, ProductRecord | null>;
  #productBySku?: DataLoader<string, ProductRecord | null>;
  #stock?: DataLoader<number, StockRecord | null>;
  #openInbound?: DataLoader<number, InboundRecord[]>;
  #inbound?: DataLoader<number, InboundRecord | null>;
  #order?: DataLoader<number, OrderRecord | null>;
  #orderLines?: DataLoader<number, OrderLineRecord[]>;
  #backorder?: DataLoader<number, BackorderRecord | null>;
  #backorderByLine?: DataLoader<number, BackorderRecord | null>;
  #queueRank?: DataLoader<number, QueueRank | null>;
  #notification?: DataLoader<number, NotificationRecord | null>;
  #availabilityRequest?: DataLoader<number, AvailabilityRequestRecord | null>;
  #openRequests?: DataLoader<number, number>;
  #viewerRequest?: DataLoader<string, AvailabilityRequestRecord | null>;

  get product(): DataLoader<number, ProductRecord | null> {
    this.#product ??= new DataLoader<number, ProductRecord | null>(async (ids) =>
      byKey(ids, await findProductsByIds(this.db, ids), (r) => r.id),
    );
    return this.#product;
  }
  get productBySku(): DataLoader<string, ProductRecord | null> {
    this.#productBySku ??= new DataLoader<string, ProductRecord | null>(async (skus) => {
      const rows = await findProductsBySkus(this.db, skus);
      for (const row of rows) this.product.prime(row.id, row);
      return byKey(skus, rows, (r) => r.sku);
    });
    return this.#productBySku;
  }
  get stock(): DataLoader<number, StockRecord | null> {
    this.#stock ??= new DataLoader<number, StockRecord | null>(async (ids) =>
      byKey(ids, await findStockByProductIds(this.db, ids), (r) => r.productId),
    );
    return this.#stock;
  }
  get openInbound(): DataLoader<number, InboundRecord[]> {
    this.#openInbound ??= new DataLoader<number, InboundRecord[]>(async (ids) =>
      groupBy(ids, await listOpenInbound(this.db, ids), (r) => r.productId),
    );
    return this.#openInbound;
  }
  get inbound(): DataLoader<number, InboundRecord | null> {
    this.#inbound ??= new DataLoader<number, InboundRecord | null>(async (ids) =>
      byKey(ids, await findInboundByIds(this.db, ids), (r) => r.id),
    );
    return this.#inbound;
  }
  get order(): DataLoader<number, OrderRecord | null> {
    this.#order ??= new DataLoader<number, OrderRecord | null>(async (ids) =>
      byKey(ids, await findOrdersByIds(this.db, ids), (r) => r.id),
    );
    return this.#order;
  }
  get orderLines(): DataLoader<number, OrderLineRecord[]> {
    this.#orderLines ??= new DataLoader<number, OrderLineRecord[]>(async (ids) =>
      groupBy(ids, await findLinesByOrderIds(this.db, ids), (r) => r.orderId),
    );
    return this.#orderLines;
  }
  get backorder(): DataLoader<number, BackorderRecord | null> {
    this.#backorder ??= new DataLoader<number, BackorderRecord | null>(async (ids) =>
      byKey(ids, await findBackordersByIds(this.db, ids), (r) => r.id),
    );
    return this.#backorder;
  }
  get backorderByLine(): DataLoader<number, BackorderRecord | null> {
    this.#backorderByLine ??= new DataLoader<number, BackorderRecord | null>(async (ids) => {
      const rows = await findBackordersByLineIds(this.db, ids);
      for (const row of rows) this.backorder.prime(row.id, row);
      return byKey(ids, rows, (r) => r.orderLineId);
    });
    return this.#backorderByLine;
  }
  /** Position in the queue; null once the backorder has left it. */
  get notification(): DataLoader<number, NotificationRecord | null> {
    this.#notification ??= new DataLoader<number, NotificationRecord | null>(async (ids) =>
      byKey(ids, await findNotificationsByIds(this.db, ids), (r) => r.id),
    );
    return this.#notification;
  }
  get availabilityRequest(): DataLoader<number, AvailabilityRequestRecord | null> {
    this.#availabilityRequest ??= new DataLoader<number, AvailabilityRequestRecord | null>(async (ids) =>
      byKey(ids, await findAvailabilityRequestsByIds(this.db, ids), (r) => r.id),
    );
    return this.#availabilityRequest;
  }
  /** Open back-in-stock requests per product. */
  get openRequests(): DataLoader<number, number> {
    this.#openRequests ??= new DataLoader<number, number>(async (ids) => {
      const counts = new Map((await countOpenRequests(this.db, ids)).map((r) => [r.productId, r.n]));
      return ids.map((id) => counts.get(id) ?? 0);
    });
    return this.#openRequests;
  }
  /** A customer's open request for a product, keyed `customerId\u0000productId`. */
  get viewerRequest(): DataLoader<string, AvailabilityRequestRecord | null> {
    this.#viewerRequest ??= new DataLoader<string, AvailabilityRequestRecord | null>(async (keys) => {
      const byCustomer = new Map<string, number[]>();
      for (const key of keys) {
        const [customerId, productId] = key.split('\u0000') as [string, string];
        byCustomer.set(customerId, [...(byCustomer.get(customerId) ?? []), Number(productId)]);
      }
      const found = new Map<string, AvailabilityRequestRecord>();
      for (const [customerId, productIds] of byCustomer) {
        for (const r of await findOpenRequests(this.db, customerId, productIds)) {
          found.set(`${r.customerId}\u0000${r.productId}`, r);
        }
      }
      return keys.map((k) => found.get(k) ?? null);
    });
    return this.#viewerRequest;
  }
  get queueRank(): DataLoader<number, QueueRank | null> {
    this.#queueRank ??= new DataLoader<number, QueueRank | null>(async (ids) =>
      byKey(ids, await rankBackorders(this.db, ids), (r) => r.id),
    );
    return this.#queueRank;
  }

  constructor(readonly db: Db) {}

  async listProducts(page: PageWindow<string>): Promise<ProductRecord[]> {
    return this.primed(this.product, await listProductsBySku(this.db, page), (r) => r.id);
  }

  listMovements(productId: number, page: PageWindow<number>): Promise<MovementRecord[]> {
    return listMovements(this.db, productId, page);
  }

  async listOrders(status: OrderStatusValue | null, page: PageWindow<number>): Promise<OrderRecord[]> {
    return this.primed(this.order, await listOrders(this.db, status, page), (r) => r.id);
  }

  countOrders(status: OrderStatusValue | null): Promise<number> {
    return countOrders(this.db, status);
  }

  async listOrdersOfCustomer(customerId: string, page: PageWindow<number>): Promise<OrderRecord[]> {
    return this.primed(this.order, await listOrdersOfCustomer(this.db, customerId, page), (r) => r.id);
  }

  async listBackordersOfCustomer(customerId: string, page: PageWindow<number>): Promise<BackorderRecord[]> {
    return this.primed(
      this.backorder,
      await listBackordersOfCustomer(this.db, customerId, page),
      (r) => r.id,
    );
  }

  async listBackordersOfProduct(
    productId: number,
    statuses: readonly BackorderStatusValue[],
    page: PageWindow<number>,
  ): Promise<BackorderRecord[]> {
    const rows = await listBackordersOfProduct(this.db, productId, statuses, page);
    return this.primed(this.backorder, rows, (r) => r.id);
  }

  async listNotifications(customerId: string, page: PageWindow<number>): Promise<NotificationRecord[]> {
    return this.primed(this.notification, await listNotifications(this.db, customerId, page), (r) => r.id);
  }

  countNotifications(customerId: string): Promise<{ total: number; unread: number }> {
    return countNotifications(this.db, customerId);
  }

  countBackordersOfProduct(productId: number, statuses: readonly BackorderStatusValue[]): Promise<number> {
    return countBackordersOfProduct(this.db, productId, statuses);
  }

  private primed<K, V>(loader: DataLoader<K, V | null>, rows: V[], key: (row: V) => K): V[] {
    for (const row of rows) loader.prime(key(row), row);
    return rows;
  }

  /** Ranks a product's whole queue in one query and primes every position: for fan-out to many watchers. */
  async primeQueue(productId: number): Promise<void> {
    for (const rank of await rankWholeQueue(this.db, productId)) this.queueRank.prime(rank.id, rank);
  }

  async availabilityEta(product: ProductRecord, quantity: number, now: Date): Promise<Date | null> {
    const [stock, inbound] = await Promise.all([
      this.stock.load(product.id),
      this.openInbound.load(product.id),
    ]);
    if (!stock) return null;
    return estimateAvailableAt(product, stock, inbound.map(toOpenInbound), quantity, now);
  }

  /** When a queued backorder's missing units are covered by the supply that reaches it; null outside the queue. */
  async backorderEta(backorder: BackorderRecord, now: Date): Promise<Date | null> {
    const rank = await this.queueRank.load(backorder.id);
    if (!rank) return null;
    const [product, inbound] = await Promise.all([
      this.product.load(backorder.productId),
      this.openInbound.load(backorder.productId),
    ]);
    if (!product) return null;
    return backorderEta(rank, product.restockLeadTimeDays, inbound, now);
  }
}
