import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventsAfter } from '../../src/db/repos/changes.ts';
import type { DomainEventType, QueueFilled } from '../../src/domain/rules/domain-events.ts';
import { expandFill } from '../../src/outbox/projections/fill-expansion.ts';
import { Readers } from '../../src/read/readers.ts';
import { toGlobalId } from '../../src/schema/ids.ts';
import { schema } from '../../src/schema/index.ts';
import {
  CancelAvailabilityRequestDocument,
  CancelBackorderDocument,
  CancelInboundDocument,
  DeleteWebhookEndpointDocument,
  MarkNotificationsReadDocument,
  NotifyWhenAvailableDocument,
  RedeliverWebhookDeliveryDocument,
  RotateWebhookSecretDocument,
  ShipOrderDocument,
  UpdateInboundDocument,
  UpdateProductDocument,
  UpdateWebhookEndpointDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, order, placed, receive, schedule } from '../helpers/fixtures.ts';
import { createEndpoint, queueEvent } from '../helpers/webhooks.ts';

let t: TestApp;
let staff: string;
let customer: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
  customer = await t.token('customer', 'events-customer');
});
afterAll(() => t?.stop());

async function latestSeq(): Promise<number> {
  const events = await readEventsAfter(t.database.db, 0, 1_000_000);
  return events.at(-1)?.seq ?? 0;
}

/** Runs a write and returns the types of the events it committed. */
async function recorded(write: () => Promise<unknown>): Promise<DomainEventType[]> {
  const before = await latestSeq();
  await write();
  // The relay adds NotificationsAdded on its own, after commit: not part of the write.
  return (await readEventsAfter(t.database.db, before, 1000))
    .map((e) => e.event.type)
    .filter((type) => type !== 'NotificationsAdded');
}

describe('every committed write records what happened', () => {
  /** One case per mutation of the schema: a new mutation without a case here fails the last test. */
  const cases: Record<string, () => Promise<DomainEventType[]>> = {
    createProduct: () => recorded(() => createProduct(t, staff)),
    updateProduct: async () => {
      const { id } = await createProduct(t, staff);
      return recorded(() => t.ok(UpdateProductDocument, { input: { id, name: 'Renamed' } }, staff));
    },
    scheduleInbound: async () => {
      const { id } = await createProduct(t, staff);
      return recorded(() => schedule(t, staff, id, 5, new Date(Date.now() + 86_400_000)));
    },
    updateInbound: async () => {
      const { id } = await createProduct(t, staff);
      const inbound = await schedule(t, staff, id, 5, new Date(Date.now() + 86_400_000));
      return recorded(() => t.ok(UpdateInboundDocument, { input: { id: inbound.id, quantity: 7 } }, staff));
    },
    cancelInbound: async () => {
      const { id } = await createProduct(t, staff);
      const inbound = await schedule(t, staff, id, 5, new Date(Date.now() + 86_400_000));
      return recorded(() => t.ok(CancelInboundDocument, { id: inbound.id }, staff));
    },
    receiveStock: async () => {
      const { id } = await createProduct(t, staff);
      await order(t, customer, [{ productId: id, quantity: 2 }]);
      return recorded(() => receive(t, staff, id, 5));
    },
    adjustStock: async () => {
      const { id } = await createProduct(t, staff);
      return recorded(() => adjust(t, staff, id, 4));
    },
    placeOrder: async () => {
      const { id } = await createProduct(t, staff);
      return recorded(() => order(t, customer, [{ productId: id, quantity: 1 }]));
    },
    cancelBackorder: async () => {
      const { id } = await createProduct(t, staff);
      const backorderId = placed(await order(t, customer, [{ productId: id, quantity: 2 }])).lines[0]!
        .backorder!.id;
      return recorded(() => t.ok(CancelBackorderDocument, { id: backorderId }, customer));
    },
    shipOrder: async () => {
      const { id } = await createProduct(t, staff);
      await receive(t, staff, id, 3);
      const orderId = placed(await order(t, customer, [{ productId: id, quantity: 2 }])).id;
      return recorded(() => t.ok(ShipOrderDocument, { id: orderId }, staff));
    },
    createWebhookEndpoint: () => recorded(() => createEndpoint(t, staff, 'https://hooks.example/a')),
    updateWebhookEndpoint: async () => {
      const { id } = await createEndpoint(t, staff, 'https://hooks.example/b');
      return recorded(() => t.ok(UpdateWebhookEndpointDocument, { input: { id, enabled: false } }, staff));
    },
    rotateWebhookSecret: async () => {
      const { id } = await createEndpoint(t, staff, 'https://hooks.example/c');
      return recorded(() => t.ok(RotateWebhookSecretDocument, { input: { id } }, staff));
    },
    deleteWebhookEndpoint: async () => {
      const { id } = await createEndpoint(t, staff, 'https://hooks.example/d');
      return recorded(() => t.ok(DeleteWebhookEndpointDocument, { id }, staff));
    },
    redeliverWebhookDelivery: async () => {
      const endpoint = await createEndpoint(t, staff, 'https://hooks.example/e');
      await t.ok(UpdateWebhookEndpointDocument, { input: { id: endpoint.id, enabled: false } }, staff);
      await queueEvent(t.database.db, [endpoint.localId], 'backorder:events-test');
      const [delivery] = await t.database.db
        .selectFrom('webhook_delivery')
        .select('id')
        .where('endpoint_id', '=', endpoint.localId)
        .execute();
      const id = toGlobalId('WebhookDelivery', delivery!.id);
      return recorded(() => t.ok(RedeliverWebhookDeliveryDocument, { id }, staff));
    },
    notifyWhenAvailable: async () => {
      const { id } = await createProduct(t, staff);
      return recorded(() => t.ok(NotifyWhenAvailableDocument, { productId: id }, customer));
    },
    cancelAvailabilityRequest: async () => {
      const { id } = await createProduct(t, staff);
      await t.ok(NotifyWhenAvailableDocument, { productId: id }, customer);
      return recorded(() => t.ok(CancelAvailabilityRequestDocument, { productId: id }, customer));
    },
    markNotificationsRead: async () => {
      const { id } = await createProduct(t, staff);
      await order(t, customer, [{ productId: id, quantity: 1 }]);
      await t.app.outbox.poke();
      return recorded(() => t.ok(MarkNotificationsReadDocument, { input: { all: true } }, customer));
    },
  };
  const expected: Record<string, DomainEventType[]> = {
    createProduct: ['ProductCreated'],
    updateProduct: ['ProductUpdated'],
    scheduleInbound: ['InboundScheduled'],
    updateInbound: ['InboundUpdated'],
    cancelInbound: ['InboundCancelled'],
    receiveStock: ['StockReceived', 'QueueFilled', 'StockLevelCrossed'],
    adjustStock: ['StockAdjusted', 'StockLevelCrossed'],
    placeOrder: ['OrderPlaced'],
    cancelBackorder: ['BackorderCancelled'],
    shipOrder: ['OrderShipped'],
    createWebhookEndpoint: ['WebhookEndpointCreated'],
    updateWebhookEndpoint: ['WebhookEndpointUpdated'],
    rotateWebhookSecret: ['WebhookSecretRotated'],
    deleteWebhookEndpoint: ['WebhookEndpointDeleted'],
    redeliverWebhookDelivery: ['DeliveryRedelivered'],
    notifyWhenAvailable: ['AvailabilityRequested'],
    cancelAvailabilityRequest: ['AvailabilityRequestCancelled'],
    markNotificationsRead: ['NotificationsRead'],
  };

  it.each(Object.keys(cases))('%s records its events in its own transaction', async (name) => {
    expect(await cases[name]!()).toEqual(expected[name]);
  });

  it('covers every mutation the schema has', () => {
    const mutations = Object.keys(schema.getMutationType()!.getFields()).sort();
    expect(Object.keys(cases).sort()).toEqual(mutations);
  });

  it('records nothing for a refused write or an idempotent replay', async () => {
    const { id } = await createProduct(t, staff);
    expect(await recorded(() => adjust(t, staff, id, -5))).toEqual([]);
    await receive(t, staff, id, 1);
    const key = `replay-${id}`;
    expect(
      await recorded(() => order(t, customer, [{ productId: id, quantity: 1 }], { idempotencyKey: key })),
    ).toEqual(['OrderPlaced', 'StockLevelCrossed']);
    expect(
      await recorded(() => order(t, customer, [{ productId: id, quantity: 1 }], { idempotencyKey: key })),
    ).toEqual([]);
  });
});

describe('a queue fill is one event, expanded per backorder after commit', () => {
  it('names each backorder served with what it got, the same ids every time, however the queue moves on', async () => {
    const { id } = await createProduct(t, staff);
    const backorders: string[] = [];
    for (const quantity of [3, 2, 4]) {
      backorders.push(
        placed(await order(t, customer, [{ productId: id, quantity }])).lines[0]!.backorder!.id,
      );
    }
    // 1 unit: the head is partly filled. Then 6: the head completes, the second fills, the third gets 2 of 4.
    await receive(t, staff, id, 1);
    const before = await latestSeq();
    await receive(t, staff, id, 6);
    const fills = (await readEventsAfter(t.database.db, before, 100)).filter(
      (e) => e.event.type === 'QueueFilled',
    );
    expect(fills).toHaveLength(1);
    const { seq, event } = fills[0]! as { seq: number; event: QueueFilled };
    expect(event).toMatchObject({ units: 6, backorders: 3, completed: 2, firstUnits: 2, lastUnits: 2 });
    const expand = () => expandFill(new Readers(t.database.db), seq, event);
    const first = await expand();
    expect(first.map((f) => f.units)).toEqual([2, 2, 2]);
    expect(first.map((f) => f.id)).toEqual(first.map((f) => `${seq}:${f.backorderId}`));
    // A later fill completes the last one; this fill's expansion does not change.
    await receive(t, staff, id, 2);
    expect(await expand()).toEqual(first);
    expect(backorders).toHaveLength(3);
  });
});
