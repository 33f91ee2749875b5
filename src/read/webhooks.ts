import type { Db } from '../db/connect.ts';
import {
  countDeliveries,
  countEndpoints,
  type DeliveryFilter,
  findDeliveriesByIds,
  findEndpointsByIds,
  listDeliveries,
  listEndpoints,
  type WebhookDeliveryRecord,
  type WebhookEndpointRecord,
} from '../db/repos/webhooks.ts';
import type { PageWindow } from '../domain/rules/records.ts';
import { byKey, Loader } from './loader.ts';

/** What staff read about webhooks, batched per request. */
export class WebhookReaders {
  readonly endpoint: Loader<number, WebhookEndpointRecord | null>;
  readonly delivery: Loader<number, WebhookDeliveryRecord | null>;

  /** `read` starts each query (the operation's reads: see OperationWork). */
  constructor(
    private readonly db: Db,
    private readonly read: <T>(query: () => Promise<T>) => Promise<T> = (query) => query(),
  ) {
    this.endpoint = new Loader(async (ids) =>
      byKey(ids, await read(() => findEndpointsByIds(db, ids)), (r) => r.id),
    );
    this.delivery = new Loader(async (ids) =>
      byKey(ids, await read(() => findDeliveriesByIds(db, ids)), (r) => r.id),
    );
  }

  listEndpoints(page: PageWindow<number>) {
    return this.read(() => listEndpoints(this.db, page));
  }

  countEndpoints() {
    return this.read(() => countEndpoints(this.db));
  }

  listDeliveries(filter: DeliveryFilter, page: PageWindow<number>) {
    return this.read(() => listDeliveries(this.db, filter, page));
  }

  countDeliveries(filter: DeliveryFilter) {
    return this.read(() => countDeliveries(this.db, filter));
  }
}
