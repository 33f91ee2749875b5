import type { Migration } from 'kysely';
import * as catalogAndStock from './2026-11-26T00-00_catalog_and_stock.ts';
import * as ordersAndBackorders from './2026-11-26T00-01_orders_and_backorders.ts';
import * as fillsTouchOnlyBackorders from './2026-11-26T00-02_fills_touch_only_backorders.ts';
import * as domainEvents from './2026-11-30T00-00_domain_events.ts';
import * as customerCaps from './2026-11-30T00-01_customer_caps.ts';
import * as outboxAndWebhooks from './2026-11-30T00-02_outbox_and_webhooks.ts';
import * as alertsAndNotifications from './2026-11-30T00-03_alerts_and_notifications.ts';
import * as alertBounds from './2026-11-30T00-04_alert_bounds.ts';
import * as eventPayloadVersion from './2026-12-07T00-00_event_payload_version.ts';

/** Every migration by name, in the order they apply. A new migration is a new file and a new line here. */
export const migrations: Record<string, Migration> = {
  '2026-11-26T00-00_catalog_and_stock': catalogAndStock,
  '2026-11-26T00-01_orders_and_backorders': ordersAndBackorders,
  '2026-11-26T00-02_fills_touch_only_backorders': fillsTouchOnlyBackorders,
  '2026-11-30T00-00_domain_events': domainEvents,
  '2026-11-30T00-01_customer_caps': customerCaps,
  '2026-11-30T00-02_outbox_and_webhooks': outboxAndWebhooks,
  '2026-11-30T00-03_alerts_and_notifications': alertsAndNotifications,
  '2026-11-30T00-04_alert_bounds': alertBounds,
  '2026-12-07T00-00_event_payload_version': eventPayloadVersion,
};
