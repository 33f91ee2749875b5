import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdjustStockDocument,
  CancelInboundDocument,
  CreateProductDocument,
  EngineBackorderDocument,
  EngineCancelBackorderDocument,
  EngineQueueDocument,
  EngineShipOrderDocument,
  EngineViewerBackordersDocument,
  EngineViewerOrdersDocument,
  NodeByIdDocument,
  OrdersToShipDocument,
  PlaceOrderDocument,
  ProductQueueDocument,
  ReceiveStockDocument,
  ScheduleInboundDocument,
  StockLedgerDocument,
  StockOfDocument,
  UpdateInboundDocument,
  UpdateProductDocument,
  ViewerDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  backorderById,
  cancelBackorder,
  daysFromNow,
  missingId,
  newCustomer,
  orderById,
  placeRaw,
  snapshot,
  viewerOrders,
} from '../helpers/engine.ts';
import {
  createProduct,
  expectCode,
  order,
  placed,
  receive,
  schedule,
  stockOf,
  uniqueKey,
  uniqueSku,
} from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-access');
});
afterAll(() => t?.stop());

/** A GraphQL error with this code, the field's data null, and no HTTP 5xx. */
function expectRefused(
  res: { status: number; errors?: { extensions?: Record<string, unknown> }[] },
  code: string,
) {
  expect(res.status).toBeLessThan(500);
  expectCode(res, code);
}

describe('roles', () => {
  it('lets only customers place orders: staff and anonymous callers get FORBIDDEN and nothing is written', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const before = await snapshot(t, staff, [sku]);
    const input = {
      idempotencyKey: uniqueKey(),
      acceptBackorder: true,
      lines: [{ productId: id, quantity: 2 }],
    };
    for (const token of [staff, undefined]) {
      const res = await t.gql(PlaceOrderDocument, { input }, token);
      expectRefused(res, 'FORBIDDEN');
      expect(res.data?.placeOrder ?? null).toBeNull();
    }
    expect(await snapshot(t, staff, [sku])).toEqual(before);
    expect(before.products[0]!.stock).toMatchObject({ onHand: 5, allocated: 0 });
  });

  it('keeps stock, inbound, queues, the ledger, orders and all staff mutations to staff', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4);
    const inbound = await schedule(t, staff, id, 3, daysFromNow(3));
    const buyer = await newCustomer(t);
    const bought = placed(await order(t, buyer.token, [{ productId: id, quantity: 1 }]));
    const before = await snapshot(t, staff, [sku]);

    const customer = await newCustomer(t);
    for (const token of [customer.token, undefined]) {
      expectRefused(await t.gql(StockOfDocument, { sku }, token), 'FORBIDDEN');
      expectRefused(await t.gql(ProductQueueDocument, { sku, first: 5 }, token), 'FORBIDDEN');
      expectRefused(await t.gql(EngineQueueDocument, { sku, first: 5 }, token), 'FORBIDDEN');
      expectRefused(await t.gql(StockLedgerDocument, { sku, first: 5 }, token), 'FORBIDDEN');
      expectRefused(await t.gql(OrdersToShipDocument, { first: 5 }, token), 'FORBIDDEN');
      expectRefused(await t.gql(EngineShipOrderDocument, { id: bought.id }, token), 'FORBIDDEN');
      expectRefused(
        await t.gql(ReceiveStockDocument, { input: { productId: id, quantity: 1 } }, token),
        'FORBIDDEN',
      );
      expectRefused(
        await t.gql(AdjustStockDocument, { input: { productId: id, delta: 1, reason: 'x' } }, token),
        'FORBIDDEN',
      );
      expectRefused(
        await t.gql(
          ScheduleInboundDocument,
          { input: { productId: id, quantity: 1, expectedAt: daysFromNow(1).toISOString() } },
          token,
        ),
        'FORBIDDEN',
      );
      expectRefused(
        await t.gql(UpdateInboundDocument, { input: { id: inbound.id, quantity: 9 } }, token),
        'FORBIDDEN',
      );
      expectRefused(await t.gql(CancelInboundDocument, { id: inbound.id }, token), 'FORBIDDEN');
      expectRefused(
        await t.gql(UpdateProductDocument, { input: { id, backorderPolicy: 'DENY' } }, token),
        'FORBIDDEN',
      );
      expectRefused(
        await t.gql(CreateProductDocument, { input: { sku: uniqueSku(), name: 'x' } }, token),
        'FORBIDDEN',
      );
    }
    expect(await snapshot(t, staff, [sku])).toEqual(before);
    expect((await orderById(t, buyer.token, bought.id))?.status).toBe('READY');
    expect((await t.ok(ProductQueueDocument, { sku, first: 5 }, staff)).product?.inbound).toEqual([
      { id: inbound.id, quantity: 3, expectedAt: inbound.expectedAt },
    ]);
  });

  it('keeps viewer.orders and viewer.backorders to customers, backorder and cancelBackorder to signed-in callers', async () => {
    const { id } = await createProduct(t, staff);
    const customer = await newCustomer(t);
    const backorder = placed(await order(t, customer.token, [{ productId: id, quantity: 1 }])).lines[0]!
      .backorder!;

    expectRefused(await t.gql(EngineViewerOrdersDocument, { first: 5 }, staff), 'FORBIDDEN');
    expectRefused(await t.gql(EngineViewerBackordersDocument, { first: 5 }, staff), 'FORBIDDEN');
    expect((await t.ok(ViewerDocument, {})).viewer).toBeNull();
    expectRefused(await t.gql(EngineBackorderDocument, { id: backorder.id }), 'FORBIDDEN');
    expectRefused(await t.gql(EngineCancelBackorderDocument, { id: backorder.id }), 'FORBIDDEN');
    expect((await t.ok(NodeByIdDocument, { id: backorder.id })).node).toBeNull();

    // Staff may read any backorder.
    expect(await backorderById(t, staff, backorder.id)).toMatchObject({
      id: backorder.id,
      customerId: customer.sub,
      status: 'WAITING',
      queuePosition: 1,
    });
    const viewer = await t.ok(EngineViewerBackordersDocument, { first: 5 }, customer.token);
    expect(viewer.viewer?.backorders.edges.map((e) => [e.node.id, e.node.status])).toEqual([
      [backorder.id, 'WAITING'],
    ]);
  });
});

describe('another customer’s orders and backorders do not exist', () => {
  it('answers them exactly as missing ones: null from backorder and node, the same typed error from cancel', async () => {
    const { id } = await createProduct(t, staff);
    const owner = await newCustomer(t, 'owner');
    const other = await newCustomer(t, 'other');
    const placedOrder = placed(await order(t, owner.token, [{ productId: id, quantity: 2 }]));
    const backorder = placedOrder.lines[0]!.backorder!;

    expect(await backorderById(t, other.token, backorder.id)).toBeNull();
    expect(await backorderById(t, other.token, missingId('Backorder'))).toBeNull();
    for (const nodeId of [backorder.id, placedOrder.id, missingId('Order'), missingId('Backorder')]) {
      const res = await t.gql(NodeByIdDocument, { id: nodeId }, other.token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toBeNull();
    }

    const foreign = await t.gql(EngineCancelBackorderDocument, { id: backorder.id }, other.token);
    const missing = await t.gql(EngineCancelBackorderDocument, { id: missingId('Backorder') }, other.token);
    expect(foreign).toEqual(missing);
    expect(foreign.data?.cancelBackorder).toEqual({
      __typename: 'NotFoundError',
      message: 'Backorder not found',
    });
    expect(await viewerOrders(t, other.token)).toEqual([]);

    // The owner still sees everything as it was.
    expect(await backorderById(t, owner.token, backorder.id)).toMatchObject({
      status: 'WAITING',
      quantity: 2,
      queuePosition: 1,
    });
    expect((await orderById(t, owner.token, placedOrder.id))?.id).toBe(placedOrder.id);
    expect((await orderById(t, staff, placedOrder.id))?.customerId).toBe(owner.sub);
    expect((await cancelBackorder(t, owner.token, backorder.id)).__typename).toBe('CancelBackorderSuccess');
  });
});

describe('bounds on placeOrder', () => {
  it('refuses line quantities outside 1..100000 with BAD_USER_INPUT and writes nothing', async () => {
    // A cap of its own that admits a whole line of 100,000 (the default would refuse past 10,000).
    const { id, sku } = await createProduct(t, staff, { maxPerCustomer: 100_000 });
    await receive(t, staff, id, 3);
    const customer = await newCustomer(t);
    const before = await snapshot(t, staff, [sku], customer.token);
    const key = uniqueKey();
    for (const quantity of [0, -1, 100_001, 2_147_483_647]) {
      const res = await placeRaw(t, customer.token, {
        idempotencyKey: key,
        acceptBackorder: true,
        lines: [{ productId: id, quantity }],
      });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.data?.placeOrder ?? null).toBeNull();
    }
    // A valid line next to an invalid one is refused with it.
    expectRefused(
      await placeRaw(t, customer.token, {
        idempotencyKey: key,
        acceptBackorder: true,
        lines: [
          { productId: id, quantity: 1 },
          { productId: (await createProduct(t, staff)).id, quantity: 0 },
        ],
      }),
      'BAD_USER_INPUT',
    );
    expect(await snapshot(t, staff, [sku], customer.token)).toEqual(before);

    // The refused requests did not claim the key: it still places an order, and 100000 is allowed.
    const max = placed(
      await order(t, customer.token, [{ productId: id, quantity: 100_000 }], { idempotencyKey: key }),
    );
    expect(max.lines[0]).toMatchObject({
      quantity: 100_000,
      quantityAllocated: 3,
      backorder: { quantity: 99_997 },
    });
  });

  it('refuses an order of 0 or more than 50 lines, and takes exactly 50', async () => {
    const products = [];
    for (let i = 0; i < 51; i++) products.push(await createProduct(t, staff));
    const customer = await newCustomer(t);
    const skus = products.slice(0, 3).map((p) => p.sku);
    const before = await snapshot(t, staff, skus, customer.token);

    const none = await placeRaw(t, customer.token, { acceptBackorder: true, lines: [] });
    expectRefused(none, 'BAD_USER_INPUT');
    const tooMany = await placeRaw(t, customer.token, {
      acceptBackorder: true,
      lines: products.map((p) => ({ productId: p.id, quantity: 1 })),
    });
    expectRefused(tooMany, 'BAD_USER_INPUT');
    expect(await snapshot(t, staff, skus, customer.token)).toEqual(before);
    expect((await stockOf(t, staff, products[50]!.sku)).unitsOnBackorder).toBe(0);

    const fifty = placed(
      await order(
        t,
        customer.token,
        products.slice(0, 50).map((p) => ({ productId: p.id, quantity: 1 })),
      ),
    );
    expect(fifty.lines).toHaveLength(50);
    expect(fifty.lines.map((l) => l.product.id)).toEqual(products.slice(0, 50).map((p) => p.id));
    expect(fifty.lines.every((l) => l.backorder?.queuePosition === 1)).toBe(true);
  });

  it('refuses an idempotencyKey outside 1..255 characters and writes nothing', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const customer = await newCustomer(t);
    const before = await snapshot(t, staff, [sku], customer.token);
    for (const idempotencyKey of ['', 'k'.repeat(256), '😀'.repeat(256)]) {
      const res = await placeRaw(t, customer.token, {
        idempotencyKey,
        lines: [{ productId: id, quantity: 1 }],
      });
      expectRefused(res, 'BAD_USER_INPUT');
    }
    expect(await snapshot(t, staff, [sku], customer.token)).toEqual(before);

    for (const idempotencyKey of ['k'.repeat(255), '😀'.repeat(255), 'x']) {
      const res = await placeRaw(t, customer.token, {
        idempotencyKey,
        lines: [{ productId: id, quantity: 1 }],
      });
      expect(res.errors).toBeUndefined();
      expect(res.data?.placeOrder.__typename).toBe('PlaceOrderSuccess');
    }
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 5, allocated: 3, available: 2 });
  });
});
