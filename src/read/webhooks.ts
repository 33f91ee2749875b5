import DataLoader from 'dataloader';
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

function byId<V extends { id: number }>(ids: readonly number[], rows: readonly V[]): (V | null)[] {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
}

/** What staff read about webhooks, batched per request. */
export class WebhookReaders {
  readonly endpoint: DataLoader<number, WebhookEndpointRecord | null>;
  readonly delivery: DataLoader<number, WebhookDeliveryRecord | null>;

  constructor(private readonly db: Db) {
    this.endpoint = new DataLoader(async (ids) => byId(ids, await findEndpointsByIds(db, ids)));
    this.delivery = new DataLoader(async (ids) => byId(ids, await findDeliveriesByIds(db, ids)));
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
