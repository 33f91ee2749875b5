import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeOrder } from '../../src/domain/orders.ts';
import { fromGlobalId } from '../../src/schema/ids.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, order } from '../helpers/fixtures.ts';
import { createEndpoint, Receiver, until } from '../helpers/webhooks.ts';

// From a real checkout, through the outbox relay and the delivery worker, to a receiver.
let t: TestApp;
let rx: Receiver;

beforeAll(async () => {
  t = await startTestApp({ webhooks: { allowLoopback: true, pollMs: 50 }, outbox: { pollMs: 50 } });
  rx = await Receiver.start();
});
afterAll(async () => {
  await rx?.down();
  await t?.stop();
});

describe('checkout to webhook', () => {
  it('delivers a backorder.created for a committed order, signed, and nothing for one rolled back', async () => {
    const staff = await t.token('staff');
    const endpoint = await createEndpoint(t, staff, rx.url(), ['BACKORDER_CREATED']);
    const product = await createProduct(t, staff);
    const productId = fromGlobalId(product.id, 'Product')!;

    await expect(
      t.app.writer.run(async (tx) => {
        await placeOrder(
          tx,
          { id: 'c-rolled-back', role: 'customer' },
          { idempotencyKey: 'rolled-back', acceptBackorder: true, lines: [{ productId, quantity: 2 }] },
        );
        throw new Error('the payment step failed');
      }),
    ).rejects.toThrow('the payment step failed');

    await order(t, await t.token('customer', 'c-committed'), [{ productId: product.id, quantity: 3 }]);
    await until('the event', () => rx.received.length === 1, 10_000);
    const got = rx.received[0]!;
    const event = new Webhook(endpoint.secret).verify(got.body, {
      'webhook-id': String(got.headers['webhook-id']),
      'webhook-timestamp': String(got.headers['webhook-timestamp']),
      'webhook-signature': String(got.headers['webhook-signature']),
    }) as { id: string; type: string; customerId: string; data: { backorder: { quantity: number } } };
    expect(event).toMatchObject({ type: 'backorder.created', customerId: 'c-committed' });
    expect(event.data.backorder.quantity).toBe(3);
    expect(got.headers['webhook-id']).toBe(event.id);

    // Nothing else comes: the rolled-back order left no event behind.
    await new Promise((r) => setTimeout(r, 500));
    expect(rx.received).toHaveLength(1);
    const stored = await t.database.db.selectFrom('outbox_event').select(['customer_id']).execute();
    expect(stored.map((e) => e.customer_id)).not.toContain('c-rolled-back');
  });
});
