import type { Db } from '../db/connect.ts';
import type { PageWindow } from '../db/records.ts';
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
import { byKey, Loader } from './loader.ts';

/** What staff read about webhooks, batched per request. */
export class WebhookReaders {
  readonly endpoint: Loader<number, WebhookEndpointRecord | null>;
  readonly delivery: Loader<number, WebhookDeliveryRecord | null>;

  constructor(private readonly db: Db) {
    this.endpoint = new Loader(async (ids) => byKey(ids, await findEndpointsByIds(db, ids), (r) => r.id));
    this.delivery = new Loader(async (ids) => byKey(ids, await findDeliveriesByIds(db, ids), (r) => r.id));
  }

  listEndpoints(page: PageWindow<number>) {
    return listEndpoints(this.db, page);
  }

  countEndpoints() {
    return countEndpoints(this.db);
  }

  listDeliveries(filter: DeliveryFilter, page: PageWindow<number>) {
    return listDeliveries(this.db, filter, page);
  }

  countDeliveries(filter: DeliveryFilter) {
    return countDeliveries(this.db, filter);
  }
}
