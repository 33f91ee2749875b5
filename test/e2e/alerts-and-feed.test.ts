import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/edge/app/server.ts';
import {
  CancelAvailabilityRequestDocument,
  MarkNotificationsReadDocument,
  MyNotificationsDocument,
  MyRequestDocument,
  NodeByIdDocument,
  NotifyWhenAvailableDocument,
  ProductRequestsDocument,
  WatchNotificationsDocument,
} from '../generated/graphql.ts';
import { startSecondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, order, placed, receive } from '../helpers/fixtures.ts';
import { connect, subscribe } from '../helpers/live.ts';

let t: TestApp;
let second: App;
let secondPort: number;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({ outbox: { etaMarginMs: 86_400_000, pollMs: 200 } });
  staff = await t.token('staff');
  ({ app: second, port: secondPort } = await startSecondInstance(t));
});
afterAll(async () => {
  await second?.stop();
  await t?.stop();
});

async function alertsOf(customerId: string) {
  await t.app.outbox.poke();
  const { rows } = await sql<{ id: string }>`
    SELECT id FROM outbox_event WHERE type = 'alert.product_available' AND customer_id = ${customerId}
  `.execute(t.database.db);
  return rows;
}

describe('back-in-stock requests', () => {
  it('fires once per request when the product can be bought, and staff see how many wait', async () => {
    const { id, sku } = await createProduct(t, staff, { backorderPolicy: 'DENY' });
    const customers = await Promise.all([1, 2, 3].map((i) => t.token('customer', `alert-${sku}-${i}`)));
    for (const token of customers) {
      const res = await t.ok(NotifyWhenAvailableDocument, { productId: id }, token);
      expect(res.notifyWhenAvailable.__typename).toBe('NotifyWhenAvailableSuccess');
    }
    // Asking again answers the same open request.
    const again = await t.ok(NotifyWhenAvailableDocument, { productId: id }, customers[0]);
    const mine = await t.ok(MyRequestDocument, { sku }, customers[0]);
    expect(
      again.notifyWhenAvailable.__typename === 'NotifyWhenAvailableSuccess' &&
        again.notifyWhenAvailable.request.id,
    ).toBe(mine.product?.viewerAvailabilityRequest?.id);
    expect((await t.ok(ProductRequestsDocument, { sku }, staff)).product?.availabilityRequests).toBe(3);
    // Ten receipts race to bring it back: every request fires exactly once.
    await Promise.all(Array.from({ length: 10 }, () => receive(t, staff, id, 1)));
    for (const i of [1, 2, 3]) expect(await alertsOf(`alert-${sku}-${i}`)).toHaveLength(1);
    expect((await t.ok(ProductRequestsDocument, { sku }, staff)).product?.availabilityRequests).toBe(0);
    // Sold out and back again: spent requests do not fire twice.
    await adjust(t, staff, id, -10);
    await receive(t, staff, id, 5);
    for (const i of [1, 2, 3]) expect(await alertsOf(`alert-${sku}-${i}`)).toHaveLength(1);
  });

  it('does not fire a request cancelled before, and refuses one for a product that can be bought now', async () => {
    const { id, sku } = await createProduct(t, staff);
    const customer = await t.token('customer', `alert-cancel-${sku}`);
    await t.ok(NotifyWhenAvailableDocument, { productId: id }, customer);
    const cancelled = await t.ok(CancelAvailabilityRequestDocument, { productId: id }, customer);
    expect(cancelled.cancelAvailabilityRequest).toMatchObject({ request: { status: 'CANCELLED' } });
    const none = await t.ok(CancelAvailabilityRequestDocument, { productId: id }, customer);
    expect(none.cancelAvailabilityRequest.__typename).toBe('NotFoundError');
    await receive(t, staff, id, 2);
    expect(await alertsOf(`alert-cancel-${sku}`)).toHaveLength(0);
    const refused = await t.ok(NotifyWhenAvailableDocument, { productId: id }, customer);
    expect(refused.notifyWhenAvailable).toMatchObject({
      __typename: 'ProductAvailableError',
      quantityAvailable: 2,
    });
  });
});

describe('the notification feed', () => {
  it('pages newest first, counts unread, and marks read', async () => {
    const { id } = await createProduct(t, staff);
    const token = await t.token('customer', 'feed-pages');
    for (let i = 0; i < 5; i++) placed(await order(t, token, [{ productId: id, quantity: 1 }]));
    await t.app.outbox.poke();
    const first = (await t.ok(MyNotificationsDocument, { first: 3 }, token)).viewer!.notifications;
    expect(first).toMatchObject({ totalCount: 5, unreadCount: 5 });
    expect(first.edges).toHaveLength(3);
    expect(first.edges[0]!.node.message).toMatch(/number 5 in line/);
    const rest = (await t.ok(MyNotificationsDocument, { first: 3, after: first.pageInfo.endCursor }, token))
      .viewer!.notifications;
    expect(rest.edges.map((e) => e.node.message)).toEqual([
      expect.stringMatching(/number 2 in line/),
      expect.stringMatching(/number 1 in line/),
    ]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const marked = await t.ok(
      MarkNotificationsReadDocument,
      { input: { ids: [first.edges[0]!.node.id] } },
      token,
    );
    expect(marked.markNotificationsRead).toMatchObject({ marked: 1, unreadCount: 4 });
    const all = await t.ok(MarkNotificationsReadDocument, { input: { all: true } }, token);
    expect(all.markNotificationsRead).toMatchObject({ marked: 4, unreadCount: 0 });
    const bad = await t.gql(MarkNotificationsReadDocument, { input: {} }, token);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("keeps each customer's feed to that customer: another's ids answer like missing ones", async () => {
    const { id } = await createProduct(t, staff);
    const [alice, bob] = [await t.token('customer', 'feed-alice'), await t.token('customer', 'feed-bob')];
    placed(await order(t, alice, [{ productId: id, quantity: 1 }]));
    await t.app.outbox.poke();
    const notification = (await t.ok(MyNotificationsDocument, { first: 1 }, alice)).viewer!.notifications
      .edges[0]!.node;
    expect((await t.ok(NodeByIdDocument, { id: notification.id }, bob)).node).toBeNull();
    expect((await t.ok(NodeByIdDocument, { id: notification.id }, alice)).node).not.toBeNull();
    expect((await t.ok(NodeByIdDocument, { id: notification.id }, staff)).node).not.toBeNull();
    const marked = await t.ok(MarkNotificationsReadDocument, { input: { ids: [notification.id] } }, bob);
    expect(marked.markNotificationsRead).toMatchObject({ marked: 0 });
    expect((await t.ok(MyNotificationsDocument, { first: 1 }, alice)).viewer!.notifications.unreadCount).toBe(
      1,
    );
    expect((await t.ok(MyNotificationsDocument, { first: 1 }, bob)).viewer!.notifications.totalCount).toBe(0);
  });

  it('pushes a new notification to a subscriber on another instance within a second', async () => {
    const { id } = await createProduct(t, staff);
    const token = await t.token('customer', 'feed-live');
    const client = connect(secondPort, token);
    const feed = subscribe(client, WatchNotificationsDocument, {});
    // The subscription is open once a first order's notification arrives.
    placed(await order(t, token, [{ productId: id, quantity: 1 }]));
    await feed.until((d) => d.notificationAdded.type === 'BACKORDER_CREATED', 5_000);
    const started = Date.now();
    await receive(t, staff, id, 5);
    const allocated = await feed.next((d) => d.notificationAdded.type === 'BACKORDER_ALLOCATED', 1_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(allocated.notificationAdded.read).toBe(false);
    feed.stop();
    await client.dispose();
  });
});
