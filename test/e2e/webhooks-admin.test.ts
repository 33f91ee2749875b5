import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/schema/ids.ts';
import {
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  RedeliverWebhookDeliveryDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  WebhookNodeDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createEndpoint, queueEvent } from '../helpers/webhooks.ts';

// Staff manage endpoints over GraphQL. The worker is off here: nothing is sent, so states stay put.
let t: TestApp;
let staff: string;
let customer: string;

beforeAll(async () => {
  t = await startTestApp({ webhooks: { worker: false, allowLoopback: true } });
  staff = await t.token('staff');
  customer = await t.token('customer', 'hook-customer');
});
afterAll(() => t?.stop());

describe('webhook endpoints', () => {
  it('creates an endpoint and shows its secret once', async () => {
    const data = await t.ok(
      CreateWebhookEndpointDocument,
      {
        input: {
          url: 'https://erp.example/hooks',
          description: '  Warehouse  ',
          eventTypes: ['BACKORDER_SHIPPED', 'BACKORDER_CREATED', 'BACKORDER_CREATED'],
        },
      },
      staff,
    );
    const r = data.createWebhookEndpoint;
    if (r.__typename !== 'CreateWebhookEndpointSuccess') throw new Error(r.__typename);
    expect(r.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(r.endpoint).toMatchObject({
      url: 'https://erp.example/hooks',
      description: 'Warehouse',
      eventTypes: ['BACKORDER_CREATED', 'BACKORDER_SHIPPED'],
      enabled: true,
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    const listed = await t.ok(WebhookEndpointsDocument, { first: 100 }, staff);
    expect(JSON.stringify(listed)).not.toContain(r.secret);
    expect(listed.webhookEndpoints.edges.map((e) => e.node.id)).toContain(r.endpoint.id);
  });

  it('refuses URLs that cannot receive webhooks, with the reason', async () => {
    const refusals: [string, RegExp][] = [
      ['http://erp.example/hooks', /Only https/],
      ['https://user:secret@erp.example/hooks', /credentials/],
      ['not a url', /Not an absolute URL/],
      [`https://erp.example/${'x'.repeat(2100)}`, /longer than 2048/],
      ['http://10.0.0.8/hooks', /Only https/],
    ];
    for (const [url, why] of refusals) {
      const data = await t.ok(
        CreateWebhookEndpointDocument,
        { input: { url, eventTypes: ['ORDER_SHIPPED'] } },
        staff,
      );
      const r = data.createWebhookEndpoint;
      expect(r.__typename).toBe('InvalidWebhookUrlError');
      if (r.__typename === 'InvalidWebhookUrlError') expect(r.why).toMatch(why);
    }
    // With the loopback setting on (this app), http to loopback is accepted.
    await createEndpoint(t, staff, 'http://127.0.0.1:9/hooks');
    const none = await t.gql(
      CreateWebhookEndpointDocument,
      { input: { url: 'https://erp.example/x', eventTypes: [] } },
      staff,
    );
    expect(none.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses http to loopback where the setting is off', async () => {
    const strict = await startTestApp({ webhooks: { worker: false } });
    try {
      const token = await strict.token('staff');
      const data = await strict.ok(
        CreateWebhookEndpointDocument,
        { input: { url: 'http://127.0.0.1:8080/hooks', eventTypes: ['ORDER_SHIPPED'] } },
        token,
      );
      expect(data.createWebhookEndpoint.__typename).toBe('InvalidWebhookUrlError');
    } finally {
      await strict.stop();
    }
  });

  it('updates only what is given, and enabling clears why it was disabled', async () => {
    const endpoint = await createEndpoint(t, staff, 'https://erp.example/a', ['ORDER_SHIPPED']);
    await t.database.db
      .updateTable('webhook_endpoint')
      .set({ enabled: false, disabled_reason: 'Failing since …', failing_since: new Date() })
      .where('id', '=', endpoint.localId)
      .execute();
    const data = await t.ok(
      UpdateWebhookEndpointDocument,
      { input: { id: endpoint.id, eventTypes: ['PRODUCT_LOW_STOCK'], enabled: true } },
      staff,
    );
    const r = data.updateWebhookEndpoint;
    if (r.__typename !== 'UpdateWebhookEndpointSuccess') throw new Error(r.__typename);
    expect(r.endpoint).toMatchObject({
      url: 'https://erp.example/a',
      eventTypes: ['PRODUCT_LOW_STOCK'],
      enabled: true,
      disabledReason: null,
      failingSince: null,
    });
    const bad = await t.ok(
      UpdateWebhookEndpointDocument,
      { input: { id: endpoint.id, url: 'http://erp.example/a' } },
      staff,
    );
    expect(bad.updateWebhookEndpoint.__typename).toBe('InvalidWebhookUrlError');
    const missing = await t.ok(
      UpdateWebhookEndpointDocument,
      { input: { id: toGlobalId('WebhookEndpoint', 999_999), enabled: false } },
      staff,
    );
    expect(missing.updateWebhookEndpoint.__typename).toBe('NotFoundError');
  });

  it('rotates the secret with an overlap, and deletes', async () => {
    const endpoint = await createEndpoint(t, staff, 'https://erp.example/r');
    const data = await t.ok(
      RotateWebhookSecretDocument,
      { input: { id: endpoint.id, overlapMinutes: 60 } },
      staff,
    );
    const r = data.rotateWebhookSecret;
    if (r.__typename !== 'RotateWebhookSecretSuccess') throw new Error(r.__typename);
    expect(r.secret).not.toBe(endpoint.secret);
    const ends = Date.parse(r.endpoint.previousSecretExpiresAt!);
    expect(ends - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(ends - Date.now()).toBeLessThan(61 * 60_000);
    const tooLong = await t.gql(
      RotateWebhookSecretDocument,
      { input: { id: endpoint.id, overlapMinutes: 20_000 } },
      staff,
    );
    expect(tooLong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const deleted = await t.ok(DeleteWebhookEndpointDocument, { id: endpoint.id }, staff);
    expect(deleted.deleteWebhookEndpoint).toEqual({
      __typename: 'DeleteWebhookEndpointSuccess',
      deletedId: endpoint.id,
    });
    const again = await t.ok(DeleteWebhookEndpointDocument, { id: endpoint.id }, staff);
    expect(again.deleteWebhookEndpoint.__typename).toBe('NotFoundError');
  });

  it('lists deliveries by status and endpoint, and redelivers a dead letter', async () => {
    const endpoint = await createEndpoint(t, staff, 'https://erp.example/d');
    const first = await queueEvent(t.database.db, [endpoint.localId], 'backorder:1');
    await queueEvent(t.database.db, [endpoint.localId], 'backorder:1');
    await t.database.db
      .updateTable('webhook_delivery')
      .set({ status: 'DEAD', attempts: 15, last_error: 'HTTP 500', last_status: 500 })
      .where('event_position', '=', (eb) =>
        eb.selectFrom('outbox_event').select('position').where('id', '=', first.id),
      )
      .execute();

    const all = await t.ok(WebhookDeliveriesDocument, { endpointId: endpoint.id, first: 10 }, staff);
    expect(all.webhookDeliveries.totalCount).toBe(2);
    const dead = await t.ok(WebhookDeliveriesDocument, { endpointId: endpoint.id, status: 'DEAD' }, staff);
    expect(dead.webhookDeliveries.totalCount).toBe(1);
    const letter = dead.webhookDeliveries.edges[0]!.node;
    expect(letter).toMatchObject({
      eventId: first.id,
      eventType: 'BACKORDER_CREATED',
      subject: 'backorder:1',
      status: 'DEAD',
      attempts: 15,
      nextAttemptAt: null,
      lastStatus: 500,
      lastError: 'HTTP 500',
      body: first.body,
      endpoint: { id: endpoint.id },
    });

    const redelivered = await t.ok(RedeliverWebhookDeliveryDocument, { id: letter.id }, staff);
    const r = redelivered.redeliverWebhookDelivery;
    if (r.__typename !== 'RedeliverWebhookDeliverySuccess') throw new Error(r.__typename);
    expect(r.delivery).toMatchObject({ status: 'PENDING', attempts: 0, lastError: null, eventId: first.id });
    expect(Date.parse(r.delivery.nextAttemptAt!)).toBeLessThanOrEqual(Date.now() + 1000);

    const missing = await t.ok(
      RedeliverWebhookDeliveryDocument,
      { id: toGlobalId('WebhookDelivery', 999_999) },
      staff,
    );
    expect(missing.redeliverWebhookDelivery.__typename).toBe('NotFoundError');
    const page = await t.gql(WebhookDeliveriesDocument, { first: 101 }, staff);
    expect(page.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('is staff only: others are refused, and the nodes do not exist for them', async () => {
    const endpoint = await createEndpoint(t, staff, 'https://erp.example/s');
    const asCustomer = await t.gql(WebhookEndpointsDocument, { first: 1 }, customer);
    expect(asCustomer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await t.gql(CreateWebhookEndpointDocument, {
      input: { url: 'https://x.example/', eventTypes: ['ORDER_SHIPPED'] },
    });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await t.ok(WebhookNodeDocument, { id: endpoint.id }, customer)).node).toBeNull();
    expect((await t.ok(WebhookNodeDocument, { id: endpoint.id }, staff)).node).toEqual({
      __typename: 'WebhookEndpoint',
      url: 'https://erp.example/s',
    });
  });
});
