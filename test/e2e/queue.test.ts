import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineAdjustStockDocument, NodeByIdDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  availabilityOf,
  backorderById,
  cancelBackorder,
  ledgerOf,
  localId,
  missingId,
  newCustomer,
  orderById,
  queueOf,
  shipOrder,
  viewerOrders,
} from '../helpers/engine.ts';
import { createProduct, order, placed, receive, stockOf } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-queue');
});
afterAll(() => t?.stop());

/** A product with no stock and one backorder per quantity, each from its own customer, in that order. */
async function queueOfSizes(quantities: number[], options: { backorderLimit?: number } = {}) {
  const product = await createProduct(t, staff, options);
  const waiting = [];
  for (const quantity of quantities) {
    const customer = await newCustomer(t);
    const result = placed(await order(t, customer.token, [{ productId: product.id, quantity }]));
    waiting.push({ customer, order: result, backorder: result.lines[0]!.backorder! });
  }
  return { product, waiting };
}

describe('units go to the queue first, in order', () => {
  it('receiveStock fills the queue FIFO, partly filling the head where units run short', async () => {
    const { product, waiting } = await queueOfSizes([2, 3, 1]);
    const [a, b, c] = waiting;

    const received = await receive(t, staff, product.id, 4);
    expect(received.product.stock).toEqual({ onHand: 4, allocated: 4, available: 0 });
    expect(received.allocations).toEqual([
      { quantity: 2, backorder: { id: a!.backorder.id, status: 'ALLOCATED', quantityAllocated: 2 } },
      {
        quantity: 2,
        backorder: { id: b!.backorder.id, status: 'PARTIALLY_ALLOCATED', quantityAllocated: 2 },
      },
    ]);

    const queue = await queueOf(t, staff, product.sku);
    expect(queue.totalCount).toBe(2);
    expect(
      queue.nodes.map((n) => [n.id, n.status, n.quantityAllocated, n.queuePosition, n.unitsAhead]),
    ).toEqual([
      [b!.backorder.id, 'PARTIALLY_ALLOCATED', 2, 1, 0],
      [c!.backorder.id, 'WAITING', 0, 2, 1],
    ]);
    expect(await backorderById(t, a!.customer.token, a!.backorder.id)).toMatchObject({
      status: 'ALLOCATED',
      quantity: 2,
      quantityAllocated: 2,
      queuePosition: null,
      unitsAhead: null,
      estimatedAvailableAt: null,
    });
    expect((await orderById(t, a!.customer.token, a!.order.id))?.status).toBe('READY');
    const partial = await orderById(t, b!.customer.token, b!.order.id);
    expect(partial?.status).toBe('AWAITING_STOCK');
    expect(partial?.lines[0]).toMatchObject({ quantity: 3, quantityAllocated: 2, quantityShipped: 0 });
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 4,
      allocated: 4,
      available: 0,
      queueLength: 2,
      unitsOnBackorder: 2,
    });

    // The fill is one ALLOCATION of everything it handed out, after the receipt; who got what is on the
    // backorders themselves.
    const ledger = await ledgerOf(t, staff, product.sku);
    expect(ledger.slice(0, 2)).toEqual([
      { kind: 'ALLOCATION', quantity: 4, reference: 'queue', actor: 'staff-queue' },
      { kind: 'RECEIPT', quantity: 4, reference: null, actor: 'staff-queue' },
    ]);
    expect(a!.backorder.id).not.toBe(b!.backorder.id);
  });

  it('a positive adjustStock serves the queue the same way; only the rest becomes available', async () => {
    const { product, waiting } = await queueOfSizes([3, 1]);
    const [a, b] = waiting;
    await receive(t, staff, product.id, 2);

    const adjusted = await t.ok(
      EngineAdjustStockDocument,
      { input: { productId: product.id, delta: 5, reason: 'found a carton' } },
      staff,
    );
    expect(adjusted.adjustStock).toEqual({
      __typename: 'AdjustStockSuccess',
      product: { id: product.id, stock: { onHand: 7, allocated: 4, available: 3 } },
      allocations: [
        { quantity: 1, backorder: { id: a!.backorder.id, status: 'ALLOCATED', quantityAllocated: 3 } },
        { quantity: 1, backorder: { id: b!.backorder.id, status: 'ALLOCATED', quantityAllocated: 1 } },
      ],
    });
    expect(await availabilityOf(t, product.sku)).toMatchObject({
      status: 'IN_STOCK',
      quantityAvailable: 3,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    // OrderLine.quantityAllocated counts the units the backorder received later.
    const line = (await orderById(t, a!.customer.token, a!.order.id))!.lines[0];
    expect(line).toMatchObject({ quantity: 3, quantityAllocated: 3 });

    // A loss moves nothing in the queue and may not take onHand below what is allocated.
    const loss = await t.ok(
      EngineAdjustStockDocument,
      { input: { productId: product.id, delta: -4, reason: 'miscount' } },
      staff,
    );
    expect(loss.adjustStock).toMatchObject({ __typename: 'StockBelowAllocatedError' });
    const small = await t.ok(
      EngineAdjustStockDocument,
      { input: { productId: product.id, delta: -3, reason: 'miscount' } },
      staff,
    );
    expect(small.adjustStock).toEqual({
      __typename: 'AdjustStockSuccess',
      product: { id: product.id, stock: { onHand: 4, allocated: 4, available: 0 } },
      allocations: [],
    });
  });

  it('never lets a new order jump the queue: stock that arrives serves the waiting first', async () => {
    const { product, waiting } = await queueOfSizes([3]);
    const [head] = waiting;

    const partial = await receive(t, staff, product.id, 2);
    expect(partial.allocations.map((a) => [a.backorder.id, a.quantity])).toEqual([[head!.backorder.id, 2]]);

    const late = await newCustomer(t);
    const declined = await order(t, late.token, [{ productId: product.id, quantity: 1 }], {
      acceptBackorder: false,
    });
    expect(declined).toMatchObject({
      __typename: 'InsufficientStockError',
      productId: product.id,
      quantityAvailable: 0,
    });
    const joined = placed(await order(t, late.token, [{ productId: product.id, quantity: 1 }]));
    expect(joined.lines[0]).toMatchObject({
      quantity: 1,
      quantityAllocated: 0,
      backorder: { status: 'WAITING', queuePosition: 2, unitsAhead: 1 },
    });

    const more = await receive(t, staff, product.id, 5);
    expect(more.allocations.map((a) => [a.backorder.id, a.quantity, a.backorder.status])).toEqual([
      [head!.backorder.id, 1, 'ALLOCATED'],
      [joined.lines[0]!.backorder!.id, 1, 'ALLOCATED'],
    ]);
    expect(more.product.stock).toEqual({ onHand: 7, allocated: 4, available: 3 });

    // With the queue empty, a new order takes from stock again.
    const fresh = await newCustomer(t);
    const served = placed(await order(t, fresh.token, [{ productId: product.id, quantity: 2 }]));
    expect(served).toMatchObject({ status: 'READY', lines: [{ quantityAllocated: 2, backorder: null }] });
  });
});

describe('cancelBackorder', () => {
  it('leaves the queue: those behind move up, released units go on to the next in line', async () => {
    const { product, waiting } = await queueOfSizes([2, 3, 1, 2]);
    const [a, b, c, d] = waiting;
    expect(waiting.map((w) => [w.backorder.queuePosition, w.backorder.unitsAhead])).toEqual([
      [1, 0],
      [2, 2],
      [3, 5],
      [4, 6],
    ]);
    await receive(t, staff, product.id, 1);

    // b (waiting, nothing allocated) leaves: c and d move up.
    const cancelledB = await cancelBackorder(t, b!.customer.token, b!.backorder.id);
    expect(cancelledB).toMatchObject({
      __typename: 'CancelBackorderSuccess',
      backorder: {
        id: b!.backorder.id,
        status: 'CANCELLED',
        quantity: 3,
        quantityAllocated: 0,
        queuePosition: null,
        unitsAhead: null,
        estimatedAvailableAt: null,
      },
    });
    let queue = await queueOf(t, staff, product.sku);
    expect(queue.nodes.map((n) => [n.id, n.queuePosition, n.unitsAhead])).toEqual([
      [a!.backorder.id, 1, 0],
      [c!.backorder.id, 2, 1],
      [d!.backorder.id, 3, 2],
    ]);
    expect(queue.totalCount).toBe(3);
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 1,
      allocated: 1,
      available: 0,
      queueLength: 3,
      unitsOnBackorder: 4,
    });
    expect((await orderById(t, b!.customer.token, b!.order.id))?.status).toBe('CANCELLED');

    // a (partly allocated) leaves: its one unit goes on to c, which is then complete.
    const cancelledA = await cancelBackorder(t, a!.customer.token, a!.backorder.id);
    expect(cancelledA).toMatchObject({
      __typename: 'CancelBackorderSuccess',
      backorder: { status: 'CANCELLED', quantityAllocated: 0, queuePosition: null },
    });
    expect(await backorderById(t, c!.customer.token, c!.backorder.id)).toMatchObject({
      status: 'ALLOCATED',
      quantityAllocated: 1,
      queuePosition: null,
    });
    expect((await orderById(t, c!.customer.token, c!.order.id))?.status).toBe('READY');
    const orderA = await orderById(t, a!.customer.token, a!.order.id);
    expect(orderA).toMatchObject({ status: 'CANCELLED', lines: [{ quantity: 2, quantityAllocated: 0 }] });
    queue = await queueOf(t, staff, product.sku);
    expect(queue.nodes.map((n) => [n.id, n.queuePosition, n.unitsAhead])).toEqual([[d!.backorder.id, 1, 0]]);

    // c (allocated, not shipped) leaves: its unit goes on to d.
    const cancelledC = await cancelBackorder(t, c!.customer.token, c!.backorder.id);
    expect(cancelledC).toMatchObject({ backorder: { status: 'CANCELLED', quantityAllocated: 0 } });
    expect(await backorderById(t, d!.customer.token, d!.backorder.id)).toMatchObject({
      status: 'PARTIALLY_ALLOCATED',
      quantityAllocated: 1,
      queuePosition: 1,
      unitsAhead: 0,
    });
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 1,
      allocated: 1,
      available: 0,
      queueLength: 1,
      unitsOnBackorder: 1,
    });

    const ledger = await ledgerOf(t, staff, product.sku);
    expect(ledger.slice(0, 4)).toEqual([
      { kind: 'ALLOCATION', quantity: 1, reference: 'queue', actor: c!.customer.sub },
      {
        kind: 'RELEASE',
        quantity: -1,
        reference: `backorder:${localId(c!.backorder.id)}`,
        actor: c!.customer.sub,
      },
      { kind: 'ALLOCATION', quantity: 1, reference: 'queue', actor: a!.customer.sub },
      {
        kind: 'RELEASE',
        quantity: -1,
        reference: `backorder:${localId(a!.backorder.id)}`,
        actor: a!.customer.sub,
      },
    ]);
  });

  it('gives a typed error for a cancelled or shipped backorder, and changes nothing', async () => {
    const { product, waiting } = await queueOfSizes([1, 1]);
    const [a, b] = waiting;
    await cancelBackorder(t, a!.customer.token, a!.backorder.id);
    const again = await cancelBackorder(t, a!.customer.token, a!.backorder.id);
    expect(again).toEqual({
      __typename: 'BackorderNotCancellableError',
      status: 'CANCELLED',
      message: 'A cancelled backorder cannot be cancelled',
    });

    await receive(t, staff, product.id, 1);
    expect((await shipOrder(t, staff, b!.order.id)).__typename).toBe('ShipOrderSuccess');
    const before = await stockOf(t, staff, product.sku);
    const shipped = await cancelBackorder(t, b!.customer.token, b!.backorder.id);
    expect(shipped).toEqual({
      __typename: 'BackorderNotCancellableError',
      status: 'SHIPPED',
      message: 'A shipped backorder cannot be cancelled',
    });
    expect(await backorderById(t, b!.customer.token, b!.backorder.id)).toMatchObject({
      status: 'SHIPPED',
      quantityAllocated: 1,
    });
    expect(await stockOf(t, staff, product.sku)).toEqual(before);
    expect(before).toEqual({ onHand: 0, allocated: 0, available: 0, queueLength: 0, unitsOnBackorder: 0 });
  });

  it('keeps the units the line took when it was placed; released units with no one waiting become available', async () => {
    const product = await createProduct(t, staff);
    await receive(t, staff, product.id, 1);
    const customer = await newCustomer(t);
    const placedOrder = placed(await order(t, customer.token, [{ productId: product.id, quantity: 3 }]));
    const backorder = placedOrder.lines[0]!.backorder!;
    await receive(t, staff, product.id, 2);
    expect(await backorderById(t, customer.token, backorder.id)).toMatchObject({ status: 'ALLOCATED' });

    const cancelled = await cancelBackorder(t, customer.token, backorder.id);
    expect(cancelled).toMatchObject({
      backorder: { status: 'CANCELLED', quantity: 2, quantityAllocated: 0 },
    });
    const after = await orderById(t, customer.token, placedOrder.id);
    expect(after).toMatchObject({
      status: 'READY',
      lines: [{ quantity: 3, quantityAllocated: 1, quantityShipped: 0 }],
    });
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 3,
      allocated: 1,
      available: 2,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
  });

  it('after a partial shipment, counts only the shipped units and leaves the order SHIPPED', async () => {
    const { product, waiting } = await queueOfSizes([3]);
    const [a] = waiting;
    await receive(t, staff, product.id, 1);
    const shipped = await shipOrder(t, staff, a!.order.id);
    expect(shipped).toMatchObject({
      __typename: 'ShipOrderSuccess',
      order: {
        status: 'AWAITING_STOCK',
        lines: [
          {
            quantity: 3,
            quantityAllocated: 1,
            quantityShipped: 1,
            backorder: { status: 'PARTIALLY_ALLOCATED', quantityAllocated: 1, queuePosition: 1 },
          },
        ],
      },
    });

    const cancelled = await cancelBackorder(t, a!.customer.token, a!.backorder.id);
    expect(cancelled).toMatchObject({ backorder: { status: 'CANCELLED', quantityAllocated: 1 } });
    expect(await orderById(t, a!.customer.token, a!.order.id)).toMatchObject({
      status: 'SHIPPED',
      lines: [{ quantity: 3, quantityAllocated: 1, quantityShipped: 1 }],
    });
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 0,
      allocated: 0,
      available: 0,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
  });

  it('lets staff cancel any backorder; another customer gets exactly the answer for one that does not exist', async () => {
    const { product, waiting } = await queueOfSizes([1, 1]);
    const [a, b] = waiting;
    const stranger = await newCustomer(t, 'stranger');

    const foreign = await cancelBackorder(t, stranger.token, a!.backorder.id);
    const missing = await cancelBackorder(t, stranger.token, missingId('Backorder'));
    expect(foreign).toEqual({ __typename: 'NotFoundError', message: 'Backorder not found' });
    expect(foreign).toEqual(missing);
    // Even the owner gets the same answer for an id that is not a backorder at all.
    expect(await cancelBackorder(t, a!.customer.token, a!.order.id)).toEqual(missing);
    expect(await backorderById(t, a!.customer.token, a!.backorder.id)).toMatchObject({
      status: 'WAITING',
      queuePosition: 1,
    });

    expect(await backorderById(t, stranger.token, a!.backorder.id)).toBeNull();
    expect((await t.ok(NodeByIdDocument, { id: a!.backorder.id }, stranger.token)).node).toBeNull();
    expect((await t.ok(NodeByIdDocument, { id: a!.order.id }, stranger.token)).node).toBeNull();
    expect(await orderById(t, stranger.token, a!.order.id)).toBeNull();
    expect((await t.ok(NodeByIdDocument, { id: a!.backorder.id }, a!.customer.token)).node).toEqual({
      __typename: 'Backorder',
      id: a!.backorder.id,
    });

    const byStaff = await cancelBackorder(t, staff, a!.backorder.id);
    expect(byStaff).toMatchObject({ backorder: { id: a!.backorder.id, status: 'CANCELLED' } });
    expect(await backorderById(t, b!.customer.token, b!.backorder.id)).toMatchObject({
      queuePosition: 1,
      unitsAhead: 0,
    });
    expect((await availabilityOf(t, product.sku)).queueLength).toBe(1);
  });
});

describe('Product.backorders', () => {
  it('lists the queue in order with totalCount and positions, or the backorders of the given statuses', async () => {
    const { product, waiting } = await queueOfSizes([2, 2, 1, 3, 1]);
    const ids = waiting.map((w) => w.backorder.id);
    await receive(t, staff, product.id, 3);
    await cancelBackorder(t, waiting[3]!.customer.token, ids[3]!);

    const queue = await queueOf(t, staff, product.sku);
    expect(queue.totalCount).toBe(3);
    expect(
      queue.nodes.map((n) => [
        n.id,
        n.customerId,
        n.status,
        n.quantityAllocated,
        n.queuePosition,
        n.unitsAhead,
      ]),
    ).toEqual([
      [ids[1], waiting[1]!.customer.sub, 'PARTIALLY_ALLOCATED', 1, 1, 0],
      [ids[2], waiting[2]!.customer.sub, 'WAITING', 0, 2, 1],
      [ids[4], waiting[4]!.customer.sub, 'WAITING', 0, 3, 2],
    ]);

    const allocated = await queueOf(t, staff, product.sku, ['ALLOCATED']);
    expect(allocated.totalCount).toBe(1);
    expect(allocated.nodes.map((n) => [n.id, n.status, n.queuePosition])).toEqual([
      [ids[0], 'ALLOCATED', null],
    ]);

    const closed = await queueOf(t, staff, product.sku, ['CANCELLED', 'ALLOCATED']);
    expect(closed.totalCount).toBe(2);
    expect(closed.nodes.map((n) => [n.id, n.status])).toEqual([
      [ids[0], 'ALLOCATED'],
      [ids[3], 'CANCELLED'],
    ]);

    const waitingOnly = await queueOf(t, staff, product.sku, ['WAITING']);
    expect(waitingOnly.totalCount).toBe(2);
    expect(waitingOnly.nodes.map((n) => [n.id, n.queuePosition])).toEqual([
      [ids[2], 2],
      [ids[4], 3],
    ]);
    expect((await queueOf(t, staff, product.sku, ['SHIPPED'])).totalCount).toBe(0);
  });
});

describe('at the same time', () => {
  it('serves the waiting first even when new orders race the delivery', async () => {
    const { product, waiting } = await queueOfSizes([1, 1, 1, 1, 1]);
    const late = await Promise.all(Array.from({ length: 5 }, () => newCustomer(t, 'late')));
    const [received, orders] = await Promise.all([
      receive(t, staff, product.id, 5),
      Promise.all(late.map((c) => order(t, c.token, [{ productId: product.id, quantity: 1 }]))),
    ]);
    // Whatever the interleaving, the five who waited get the five units, in queue order.
    const early = waiting.map((w) => w.backorder.id);
    expect(received.allocations.map((a) => [a.backorder.id, a.quantity])).toEqual(
      early.slice(0, received.allocations.length).map((id) => [id, 1]),
    );
    for (const w of waiting) {
      expect(await backorderById(t, w.customer.token, w.backorder.id)).toMatchObject({
        status: 'ALLOCATED',
        quantityAllocated: 1,
      });
    }
    // And the late orders got nothing from that delivery: they wait, behind each other.
    const lateLines = orders.map((o) => placed(o).lines[0]!);
    expect(lateLines.map((l) => l.quantityAllocated)).toEqual([0, 0, 0, 0, 0]);
    const queue = await queueOf(t, staff, product.sku);
    expect(queue.nodes.map((n) => n.queuePosition)).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(queue.nodes.map((n) => n.id))).toEqual(new Set(lateLines.map((l) => l.backorder!.id)));
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 5,
      allocated: 5,
      available: 0,
      queueLength: 5,
      unitsOnBackorder: 5,
    });
  });

  it('cancels a backorder once when asked twice at once, releasing its units once', async () => {
    const { product, waiting } = await queueOfSizes([2, 2]);
    const [a, b] = waiting;
    await receive(t, staff, product.id, 2);
    const answers = await Promise.all([
      cancelBackorder(t, a!.customer.token, a!.backorder.id),
      cancelBackorder(t, staff, a!.backorder.id),
    ]);
    expect(answers.map((r) => r.__typename).sort()).toEqual([
      'BackorderNotCancellableError',
      'CancelBackorderSuccess',
    ]);
    expect(await backorderById(t, b!.customer.token, b!.backorder.id)).toMatchObject({
      status: 'ALLOCATED',
      quantityAllocated: 2,
    });
    expect(await stockOf(t, staff, product.sku)).toEqual({
      onHand: 2,
      allocated: 2,
      available: 0,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    const releases = (await ledgerOf(t, staff, product.sku)).filter((m) => m.kind === 'RELEASE');
    expect(releases.map((m) => m.quantity)).toEqual([-2]);
  });

  it('keeps counters, queue and orders consistent through concurrent orders, deliveries and cancellations', async () => {
    const product = await createProduct(t, staff);
    const customers = await Promise.all(Array.from({ length: 10 }, () => newCustomer(t, 'mixed')));
    const first = await Promise.all(
      customers
        .slice(0, 5)
        .map((c, i) => order(t, c.token, [{ productId: product.id, quantity: 1 + (i % 3) }])),
    );
    const firstBackorders = first.map((r) => placed(r).lines[0]!.backorder!);
    await Promise.all([
      receive(t, staff, product.id, 3),
      ...customers
        .slice(5)
        .map((c, i) => order(t, c.token, [{ productId: product.id, quantity: 1 + (i % 2) }])),
      cancelBackorder(t, customers[1]!.token, firstBackorders[1]!.id),
      receive(t, staff, product.id, 2),
      cancelBackorder(t, customers[3]!.token, firstBackorders[3]!.id),
    ]);

    const stock = await stockOf(t, staff, product.sku);
    const all = await queueOf(t, staff, product.sku, [
      'WAITING',
      'PARTIALLY_ALLOCATED',
      'ALLOCATED',
      'SHIPPED',
      'CANCELLED',
    ]);
    const queued = all.nodes.filter((n) => n.status === 'WAITING' || n.status === 'PARTIALLY_ALLOCATED');
    expect(stock.onHand).toBe(5);
    expect(stock.queueLength).toBe(queued.length);
    expect(stock.unitsOnBackorder).toBe(queued.reduce((sum, n) => sum + n.quantity - n.quantityAllocated, 0));
    expect(queued.map((n) => n.queuePosition)).toEqual(queued.map((_, i) => i + 1));

    // Every allocated unit belongs to some order line; nothing shipped yet, so the lines add up to it.
    let linesAllocated = 0;
    for (const c of customers) {
      for (const o of await viewerOrders(t, c.token)) {
        for (const l of o.lines) linesAllocated += l.quantityAllocated;
      }
    }
    expect(stock.allocated).toBe(linesAllocated);
    // Units reached the live backorders as a prefix of the queue: none behind one that still waits.
    const live = all.nodes.filter((n) => n.status !== 'CANCELLED');
    const firstShort = live.findIndex((n) => n.status !== 'ALLOCATED');
    if (firstShort >= 0) {
      expect(live.slice(firstShort + 1).every((n) => n.quantityAllocated === 0)).toBe(true);
    }
    // Stock is only available when nobody waits.
    expect(stock.available === 0 || stock.queueLength === 0).toBe(true);
  });
});
