import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineOrdersDocument, type OrderStatus } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  cancelBackorder,
  ledgerOf,
  localId,
  missingId,
  newCustomer,
  orderById,
  shipOrder,
  viewerOrders,
} from '../helpers/engine.ts';
import { createProduct, order, placed, receive, stockOf } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-shipping');
});
afterAll(() => t?.stop());

describe('shipOrder', () => {
  it('ships every allocated unit: onHand and allocated drop, the ledger records it, READY becomes SHIPPED', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const customer = await newCustomer(t);
    const ready = placed(await order(t, customer.token, [{ productId: id, quantity: 3 }]));
    expect(ready.status).toBe('READY');

    const shipped = await shipOrder(t, staff, ready.id);
    expect(shipped).toEqual({
      __typename: 'ShipOrderSuccess',
      order: expect.objectContaining({
        id: ready.id,
        status: 'SHIPPED',
        lines: [
          expect.objectContaining({ quantity: 3, quantityAllocated: 3, quantityShipped: 3, backorder: null }),
        ],
      }),
    });
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 2,
      allocated: 0,
      available: 2,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    expect((await ledgerOf(t, staff, sku))[0]).toEqual({
      kind: 'SHIPMENT',
      quantity: -3,
      reference: `order:${localId(ready.id)}`,
      actor: 'staff-shipping',
    });

    const again = await shipOrder(t, staff, ready.id);
    expect(again).toEqual({
      __typename: 'NothingToShipError',
      message: 'The order has no allocated units waiting to ship',
    });
    expect((await stockOf(t, staff, sku)).onHand).toBe(2);
    expect(await ledgerOf(t, staff, sku)).toHaveLength(3);
  });

  it('moves an order AWAITING_STOCK -> READY -> SHIPPED; what still waits keeps waiting', async () => {
    const p = await createProduct(t, staff);
    const q = await createProduct(t, staff);
    await receive(t, staff, p.id, 2);
    const customer = await newCustomer(t);
    const placedOrder = placed(
      await order(t, customer.token, [
        { productId: p.id, quantity: 3 },
        { productId: q.id, quantity: 2 },
      ]),
    );
    expect(placedOrder.status).toBe('AWAITING_STOCK');
    const [pBackorder, qBackorder] = placedOrder.lines.map((l) => l.backorder!);

    // Only the two units taken from stock can leave; the backorders keep their place.
    const first = await shipOrder(t, staff, placedOrder.id);
    expect(first.__typename === 'ShipOrderSuccess' && first.order).toMatchObject({
      status: 'AWAITING_STOCK',
      lines: [
        {
          quantity: 3,
          quantityAllocated: 2,
          quantityShipped: 2,
          backorder: { id: pBackorder!.id, status: 'WAITING', queuePosition: 1 },
        },
        {
          quantity: 2,
          quantityAllocated: 0,
          quantityShipped: 0,
          backorder: { id: qBackorder!.id, status: 'WAITING', queuePosition: 1 },
        },
      ],
    });
    expect(await stockOf(t, staff, p.sku)).toMatchObject({ onHand: 0, allocated: 0, unitsOnBackorder: 1 });

    await receive(t, staff, q.id, 2);
    expect((await orderById(t, customer.token, placedOrder.id))?.status).toBe('AWAITING_STOCK');
    await receive(t, staff, p.id, 1);
    expect((await orderById(t, customer.token, placedOrder.id))?.status).toBe('READY');

    const second = await shipOrder(t, staff, placedOrder.id);
    expect(second.__typename === 'ShipOrderSuccess' && second.order).toMatchObject({
      status: 'SHIPPED',
      lines: [
        {
          quantityAllocated: 3,
          quantityShipped: 3,
          backorder: { status: 'SHIPPED', quantityAllocated: 1, queuePosition: null },
        },
        {
          quantityAllocated: 2,
          quantityShipped: 2,
          backorder: { status: 'SHIPPED', quantityAllocated: 2, queuePosition: null },
        },
      ],
    });
    for (const sku of [p.sku, q.sku]) {
      expect(await stockOf(t, staff, sku)).toEqual({
        onHand: 0,
        allocated: 0,
        available: 0,
        queueLength: 0,
        unitsOnBackorder: 0,
      });
    }
    expect(
      (await ledgerOf(t, staff, p.sku)).filter((m) => m.kind === 'SHIPMENT').map((m) => m.quantity),
    ).toEqual([-1, -2]);
  });

  it('ships the received part of a partly allocated backorder and keeps the rest in the queue', async () => {
    const { id, sku } = await createProduct(t, staff);
    const customer = await newCustomer(t);
    const placedOrder = placed(await order(t, customer.token, [{ productId: id, quantity: 4 }]));
    await receive(t, staff, id, 3);
    const shipped = await shipOrder(t, staff, placedOrder.id);
    expect(shipped.__typename === 'ShipOrderSuccess' && shipped.order).toMatchObject({
      status: 'AWAITING_STOCK',
      lines: [
        {
          quantity: 4,
          quantityAllocated: 3,
          quantityShipped: 3,
          backorder: { status: 'PARTIALLY_ALLOCATED', quantity: 4, quantityAllocated: 3, queuePosition: 1 },
        },
      ],
    });
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 0,
      allocated: 0,
      available: 0,
      queueLength: 1,
      unitsOnBackorder: 1,
    });
    // Nothing allocated is left to ship until the last unit comes.
    expect((await shipOrder(t, staff, placedOrder.id)).__typename).toBe('NothingToShipError');
    await receive(t, staff, id, 1);
    const rest = await shipOrder(t, staff, placedOrder.id);
    expect(rest.__typename === 'ShipOrderSuccess' && rest.order).toMatchObject({
      status: 'SHIPPED',
      lines: [{ quantityShipped: 4, backorder: { status: 'SHIPPED', quantityAllocated: 4 } }],
    });
  });

  it('gives typed errors for an order with nothing to ship, a cancelled one and an unknown one', async () => {
    const { id, sku } = await createProduct(t, staff);
    const customer = await newCustomer(t);
    const waiting = placed(await order(t, customer.token, [{ productId: id, quantity: 2 }]));
    expect(await shipOrder(t, staff, waiting.id)).toEqual({
      __typename: 'NothingToShipError',
      message: 'The order has no allocated units waiting to ship',
    });
    expect((await orderById(t, customer.token, waiting.id))?.status).toBe('AWAITING_STOCK');

    await cancelBackorder(t, customer.token, waiting.lines[0]!.backorder!.id);
    expect((await orderById(t, customer.token, waiting.id))?.status).toBe('CANCELLED');
    expect((await shipOrder(t, staff, waiting.id)).__typename).toBe('NothingToShipError');
    expect((await orderById(t, customer.token, waiting.id))?.status).toBe('CANCELLED');

    expect(await shipOrder(t, staff, missingId('Order'))).toEqual({
      __typename: 'NotFoundError',
      message: 'Order not found',
    });
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 0,
      allocated: 0,
      available: 0,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    expect(await ledgerOf(t, staff, sku)).toEqual([]);
  });

  it('ships an order once when asked twice at once', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4);
    const customer = await newCustomer(t);
    const ready = placed(await order(t, customer.token, [{ productId: id, quantity: 3 }]));
    const answers = await Promise.all([shipOrder(t, staff, ready.id), shipOrder(t, staff, ready.id)]);
    expect(answers.map((a) => a.__typename).sort()).toEqual(['NothingToShipError', 'ShipOrderSuccess']);
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 1, allocated: 0, available: 1 });
    expect(
      (await ledgerOf(t, staff, sku)).filter((m) => m.kind === 'SHIPMENT').map((m) => m.quantity),
    ).toEqual([-3]);
  });
});

describe('listing orders', () => {
  // A database of its own, so that totalCount counts only this test's orders.
  let own: TestApp;
  let ownStaff: string;
  beforeAll(async () => {
    own = await startTestApp({ poolMax: 4 });
    ownStaff = await own.token('staff');
  });
  afterAll(() => own?.stop());

  async function ordersWith(status: OrderStatus | null, first = 100, after?: string | null) {
    const data = await own.ok(EngineOrdersDocument, { status, first, after }, ownStaff);
    return {
      totalCount: data.orders.totalCount,
      ids: data.orders.edges.map((e) => e.node.id),
      createdAt: data.orders.edges.map((e) => Date.parse(e.node.createdAt)),
      pageInfo: data.orders.pageInfo,
    };
  }

  it('orders(status:) lists oldest first with totalCount; viewer.orders lists newest first', async () => {
    const x = await createProduct(own, ownStaff);
    const y = await createProduct(own, ownStaff);
    await receive(own, ownStaff, x.id, 3);
    await receive(own, ownStaff, y.id, 1);
    const c1 = await newCustomer(own);
    const c2 = await newCustomer(own);
    const o1 = placed(await order(own, c1.token, [{ productId: x.id, quantity: 1 }]));
    const o2 = placed(await order(own, c2.token, [{ productId: x.id, quantity: 1 }]));
    const o3 = placed(await order(own, c1.token, [{ productId: x.id, quantity: 2 }]));
    const o4 = placed(await order(own, c1.token, [{ productId: x.id, quantity: 1 }]));
    const o5 = placed(await order(own, c2.token, [{ productId: y.id, quantity: 1 }]));
    expect([o1, o2, o3, o4, o5].map((o) => o.status)).toEqual([
      'READY',
      'READY',
      'AWAITING_STOCK',
      'AWAITING_STOCK',
      'READY',
    ]);

    const ready = await ordersWith('READY');
    expect(ready).toMatchObject({ totalCount: 3, ids: [o1.id, o2.id, o5.id] });
    expect(ready.createdAt).toEqual([...ready.createdAt].sort((a, b) => a - b));
    expect(await ordersWith('AWAITING_STOCK')).toMatchObject({ totalCount: 2, ids: [o3.id, o4.id] });
    expect(await ordersWith(null)).toMatchObject({
      totalCount: 5,
      ids: [o1.id, o2.id, o3.id, o4.id, o5.id],
    });

    const page1 = await ordersWith('READY', 2);
    expect(page1).toMatchObject({ totalCount: 3, ids: [o1.id, o2.id], pageInfo: { hasNextPage: true } });
    const page2 = await ordersWith('READY', 2, page1.pageInfo.endCursor);
    expect(page2).toMatchObject({ totalCount: 3, ids: [o5.id], pageInfo: { hasNextPage: false } });

    await shipOrder(own, ownStaff, o1.id);
    await receive(own, ownStaff, x.id, 2);
    expect(await ordersWith('READY')).toMatchObject({ totalCount: 4, ids: [o2.id, o3.id, o4.id, o5.id] });
    expect(await ordersWith('SHIPPED')).toMatchObject({ totalCount: 1, ids: [o1.id] });
    expect(await ordersWith('AWAITING_STOCK')).toMatchObject({ totalCount: 0, ids: [] });
    expect(await ordersWith('CANCELLED')).toMatchObject({ totalCount: 0, ids: [] });

    expect((await viewerOrders(own, c1.token)).map((o) => [o.id, o.status])).toEqual([
      [o4.id, 'READY'],
      [o3.id, 'READY'],
      [o1.id, 'SHIPPED'],
    ]);
    expect((await viewerOrders(own, c2.token)).map((o) => o.id)).toEqual([o5.id, o2.id]);
  });
});
