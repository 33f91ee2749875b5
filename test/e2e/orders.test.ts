import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaceOrderDocument, ProductQueueDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  availabilityOf,
  backorderOf,
  ledgerOf,
  localId,
  newCustomer,
  newCustomers,
  placeRaw,
  queueOf,
  snapshot,
  viewerOrders,
} from '../helpers/engine.ts';
import { createProduct, order, placed, receive, schedule, stockOf, uniqueKey } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-orders');
});
afterAll(() => t?.stop());

describe('placing an order', () => {
  it('takes what is available and puts the rest on backorder at the tail of the queue', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 2);
    const [first, second] = await newCustomers(t, 2);

    const head = placed(await order(t, first!.token, [{ productId: id, quantity: 5 }]));
    expect(head.status).toBe('AWAITING_STOCK');
    expect(head.lines).toHaveLength(1);
    expect(head.lines[0]).toMatchObject({
      quantity: 5,
      quantityAllocated: 2,
      product: { id, sku },
      backorder: {
        status: 'WAITING',
        quantity: 3,
        quantityAllocated: 0,
        queuePosition: 1,
        unitsAhead: 0,
        estimatedAvailableAt: null,
      },
    });
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 2,
      allocated: 2,
      available: 0,
      queueLength: 1,
      unitsOnBackorder: 3,
    });

    const tail = placed(await order(t, second!.token, [{ productId: id, quantity: 1 }]));
    expect(tail.status).toBe('AWAITING_STOCK');
    expect(tail.lines[0]).toMatchObject({
      quantity: 1,
      quantityAllocated: 0,
      backorder: { status: 'WAITING', quantity: 1, queuePosition: 2, unitsAhead: 3 },
    });

    const ledger = await ledgerOf(t, staff, sku);
    expect(ledger).toEqual([
      { kind: 'ALLOCATION', quantity: 2, reference: `order:${localId(head.id)}`, actor: first!.sub },
      { kind: 'RECEIPT', quantity: 2, reference: null, actor: 'staff-orders' },
    ]);
  });

  it('serves an order from stock alone as READY, with no backorder and no queue', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 10);
    const { token } = await newCustomer(t);
    const result = placed(
      await order(t, token, [{ productId: id, quantity: 10 }], { acceptBackorder: false }),
    );
    expect(result.status).toBe('READY');
    expect(result.lines).toEqual([
      { quantity: 10, quantityAllocated: 10, product: { id, sku }, backorder: null },
    ]);
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 10,
      allocated: 10,
      available: 0,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    expect(await availabilityOf(t, sku)).toMatchObject({ status: 'BACKORDER', quantityAvailable: 0 });
  });

  it('survives a launch rush: 5 units, 12 parallel one-unit orders, 5 served and 7 queued in order', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const customers = await newCustomers(t, 12, 'rush');

    const results = await Promise.all(
      customers.map((c) => order(t, c.token, [{ productId: id, quantity: 1 }])),
    );
    const orders = results.map((r) => placed(r));
    const customerOf = new Map(orders.map((o, i) => [o.id, customers[i]!.sub]));
    const served = orders.filter((o) => o.lines[0]!.backorder === null);
    const waiting = orders.filter((o) => o.lines[0]!.backorder !== null);
    expect(served).toHaveLength(5);
    expect(waiting).toHaveLength(7);
    for (const o of served) {
      expect(o.status).toBe('READY');
      expect(o.lines[0]).toMatchObject({ quantity: 1, quantityAllocated: 1 });
    }
    for (const o of waiting) {
      expect(o.status).toBe('AWAITING_STOCK');
      expect(o.lines[0]).toMatchObject({ quantity: 1, quantityAllocated: 0 });
      expect(o.lines[0]!.backorder).toMatchObject({ status: 'WAITING', quantity: 1, quantityAllocated: 0 });
    }
    // Each answer already shows the position the backorder keeps: later ones only join behind it.
    const answered = waiting.map((o) => o.lines[0]!.backorder!.queuePosition).sort((a, b) => a! - b!);
    expect(answered).toEqual([1, 2, 3, 4, 5, 6, 7]);

    const queue = await queueOf(t, staff, sku);
    expect(queue.totalCount).toBe(7);
    expect(queue.nodes.map((b) => b.queuePosition)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(queue.nodes.map((b) => b.unitsAhead)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const created = queue.nodes.map((b) => Date.parse(b.createdAt));
    expect(created).toEqual([...created].sort((a, b) => a - b));
    // The queue is exactly the backorders the answers announced, each at the position announced.
    const announced = new Map(
      waiting.map((o) => [
        o.lines[0]!.backorder!.id,
        { position: o.lines[0]!.backorder!.queuePosition, customer: customerOf.get(o.id) },
      ]),
    );
    expect(queue.nodes.map((b) => announced.get(b.id))).toEqual(
      queue.nodes.map((b) => ({ position: b.queuePosition, customer: b.customerId })),
    );

    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 5,
      allocated: 5,
      available: 0,
      queueLength: 7,
      unitsOnBackorder: 7,
    });
    expect(await availabilityOf(t, sku)).toMatchObject({
      status: 'BACKORDER',
      quantityAvailable: 0,
      queueLength: 7,
      unitsOnBackorder: 7,
    });
    const ledger = await ledgerOf(t, staff, sku);
    expect(ledger.filter((m) => m.kind === 'ALLOCATION').map((m) => m.quantity)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('refusals write nothing', () => {
  it('declines a backorder the customer did not accept: InsufficientStockError with what there is and when', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 2);
    const inbound = await schedule(t, staff, id, 10, new Date(Date.now() + 5 * 86_400_000));
    const customer = await newCustomer(t);
    const before = await snapshot(t, staff, [sku], customer.token);

    const declined = await order(t, customer.token, [{ productId: id, quantity: 5 }], {
      acceptBackorder: false,
    });
    expect(declined).toEqual({
      __typename: 'InsufficientStockError',
      message: expect.any(String),
      productId: id,
      quantityAvailable: 2,
      estimatedAvailableAt: inbound.expectedAt,
    });
    // acceptBackorder omitted counts as false.
    const omitted = await placeRaw(t, customer.token, { lines: [{ productId: id, quantity: 3 }] });
    expect(omitted.data?.placeOrder).toMatchObject({
      __typename: 'InsufficientStockError',
      productId: id,
      quantityAvailable: 2,
      estimatedAvailableAt: inbound.expectedAt,
    });

    expect(await snapshot(t, staff, [sku], customer.token)).toEqual(before);
    expect(before.orders).toEqual([]);
    expect(before.products[0]!.stock).toMatchObject({ onHand: 2, allocated: 0, available: 2 });
  });

  it('refuses a backorder under policy DENY with BackorderNotAllowedError; without consent the ETA is null', async () => {
    const { id, sku } = await createProduct(t, staff, { backorderPolicy: 'DENY', restockLeadTimeDays: 3 });
    await receive(t, staff, id, 1);
    await schedule(t, staff, id, 10, new Date(Date.now() + 86_400_000));
    const customer = await newCustomer(t);
    const before = await snapshot(t, staff, [sku], customer.token);

    const denied = await order(t, customer.token, [{ productId: id, quantity: 3 }]);
    expect(denied).toEqual({
      __typename: 'BackorderNotAllowedError',
      message: expect.any(String),
      productId: id,
    });
    const declined = await order(t, customer.token, [{ productId: id, quantity: 3 }], {
      acceptBackorder: false,
    });
    expect(declined).toMatchObject({
      __typename: 'InsufficientStockError',
      productId: id,
      quantityAvailable: 1,
      estimatedAvailableAt: null,
    });
    expect(await snapshot(t, staff, [sku], customer.token)).toEqual(before);

    // What is in stock can still be bought.
    const ok = placed(await order(t, customer.token, [{ productId: id, quantity: 1 }]));
    expect(ok).toMatchObject({
      status: 'READY',
      lines: [{ quantity: 1, quantityAllocated: 1, backorder: null }],
    });
  });

  it('caps units on backorder: BackorderLimitError with the remaining capacity, then exactly the cap fits', async () => {
    const { id, sku } = await createProduct(t, staff, { backorderLimit: 5 });
    const [a, b, c] = await newCustomers(t, 3);
    placed(await order(t, a!.token, [{ productId: id, quantity: 3 }]));
    expect(await availabilityOf(t, sku)).toMatchObject({
      status: 'BACKORDER',
      backorderable: true,
      remainingCapacity: 2,
      unitsOnBackorder: 3,
    });
    const before = await snapshot(t, staff, [sku], b!.token);

    const refused = await order(t, b!.token, [{ productId: id, quantity: 3 }]);
    expect(refused).toEqual({
      __typename: 'BackorderLimitError',
      message: expect.any(String),
      productId: id,
      remainingCapacity: 2,
    });
    expect(await snapshot(t, staff, [sku], b!.token)).toEqual(before);

    const fits = backorderOf(await order(t, b!.token, [{ productId: id, quantity: 2 }]));
    expect(fits).toMatchObject({ quantity: 2, queuePosition: 2, unitsAhead: 3 });
    expect(await availabilityOf(t, sku)).toMatchObject({
      status: 'OUT_OF_STOCK',
      backorderable: false,
      remainingCapacity: 0,
      unitsOnBackorder: 5,
      queueLength: 2,
    });
    expect(await order(t, c!.token, [{ productId: id, quantity: 1 }])).toMatchObject({
      __typename: 'BackorderLimitError',
      productId: id,
      remainingCapacity: 0,
    });
  });

  it('is all or nothing across lines: a refused second line leaves the first line’s units untouched', async () => {
    const open = await createProduct(t, staff);
    const denied = await createProduct(t, staff, { backorderPolicy: 'DENY' });
    const capped = await createProduct(t, staff, { backorderLimit: 1 });
    await receive(t, staff, open.id, 3);
    const customer = await newCustomer(t);
    const skus = [open.sku, denied.sku, capped.sku];
    const before = await snapshot(t, staff, skus, customer.token);

    const notAllowed = await order(t, customer.token, [
      { productId: open.id, quantity: 2 },
      { productId: denied.id, quantity: 1 },
    ]);
    expect(notAllowed).toMatchObject({ __typename: 'BackorderNotAllowedError', productId: denied.id });

    const overCap = await order(t, customer.token, [
      { productId: open.id, quantity: 5 },
      { productId: capped.id, quantity: 2 },
    ]);
    expect(overCap).toMatchObject({
      __typename: 'BackorderLimitError',
      productId: capped.id,
      remainingCapacity: 1,
    });

    // Without consent, the first line in input order that cannot be served decides the error.
    const firstShort = await order(
      t,
      customer.token,
      [
        { productId: open.id, quantity: 4 },
        { productId: denied.id, quantity: 1 },
      ],
      { acceptBackorder: false },
    );
    expect(firstShort).toMatchObject({
      __typename: 'InsufficientStockError',
      productId: open.id,
      quantityAvailable: 3,
    });
    const secondShort = await order(
      t,
      customer.token,
      [
        { productId: open.id, quantity: 3 },
        { productId: denied.id, quantity: 1 },
      ],
      { acceptBackorder: false },
    );
    expect(secondShort).toMatchObject({
      __typename: 'InsufficientStockError',
      productId: denied.id,
      quantityAvailable: 0,
    });

    const unknown = await order(t, customer.token, [
      { productId: open.id, quantity: 1 },
      { productId: Buffer.from('Product:987654321').toString('base64'), quantity: 1 },
    ]);
    expect(unknown).toMatchObject({ __typename: 'NotFoundError' });

    expect(await snapshot(t, staff, skus, customer.token)).toEqual(before);
    expect(before.products[0]!.stock).toMatchObject({ onHand: 3, allocated: 0, available: 3 });

    // A valid order over the same lines goes through, each line on its own terms.
    const both = placed(
      await order(t, customer.token, [
        { productId: open.id, quantity: 5 },
        { productId: capped.id, quantity: 1 },
      ]),
    );
    expect(both.lines.map((l) => [l.quantity, l.quantityAllocated, l.backorder?.quantity ?? null])).toEqual([
      [5, 3, 2],
      [1, 0, 1],
    ]);
  });
});

describe('idempotent retries', () => {
  it('returns the same order for the same key and input, as it is now, and changes nothing else', async () => {
    const { id, sku } = await createProduct(t, staff);
    const customer = await newCustomer(t);
    const key = uniqueKey();
    const input = { idempotencyKey: key, acceptBackorder: true, lines: [{ productId: id, quantity: 3 }] };

    const first = placed((await t.ok(PlaceOrderDocument, { input }, customer.token)).placeOrder);
    expect(first.status).toBe('AWAITING_STOCK');
    const again = placed((await t.ok(PlaceOrderDocument, { input }, customer.token)).placeOrder);
    expect(again).toEqual(first);

    await receive(t, staff, id, 3);
    const ledger = await ledgerOf(t, staff, sku);
    const now = placed((await t.ok(PlaceOrderDocument, { input }, customer.token)).placeOrder);
    expect(now.id).toBe(first.id);
    expect(now.status).toBe('READY');
    expect(now.lines[0]).toMatchObject({
      quantity: 3,
      quantityAllocated: 3,
      backorder: {
        id: first.lines[0]!.backorder!.id,
        status: 'ALLOCATED',
        quantityAllocated: 3,
        queuePosition: null,
      },
    });
    expect(await ledgerOf(t, staff, sku)).toEqual(ledger);
    expect((await viewerOrders(t, customer.token)).map((o) => o.id)).toEqual([first.id]);
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 3,
      allocated: 3,
      available: 0,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
  });

  it('treats an omitted acceptBackorder as false when comparing inputs', async () => {
    const { id } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const customer = await newCustomer(t);
    const key = uniqueKey();
    const lines = [{ productId: id, quantity: 1 }];

    const omitted = await placeRaw(t, customer.token, { idempotencyKey: key, lines });
    const orderId = placed(omitted.data!.placeOrder).id;
    const explicit = await placeRaw(t, customer.token, {
      idempotencyKey: key,
      acceptBackorder: false,
      lines,
    });
    expect(placed(explicit.data!.placeOrder).id).toBe(orderId);
    const consent = await placeRaw(t, customer.token, { idempotencyKey: key, acceptBackorder: true, lines });
    expect(consent.data?.placeOrder).toEqual({
      __typename: 'IdempotencyConflictError',
      message: expect.any(String),
    });
  });

  it('answers the same key with another input with IdempotencyConflictError and writes nothing', async () => {
    const a = await createProduct(t, staff);
    const b = await createProduct(t, staff);
    await receive(t, staff, a.id, 10);
    await receive(t, staff, b.id, 10);
    const customer = await newCustomer(t);
    const key = uniqueKey();
    const original = placed(
      await order(
        t,
        customer.token,
        [
          { productId: a.id, quantity: 1 },
          { productId: b.id, quantity: 1 },
        ],
        { idempotencyKey: key },
      ),
    );
    const before = await snapshot(t, staff, [a.sku, b.sku], customer.token);

    const variants = [
      [
        { productId: b.id, quantity: 1 },
        { productId: a.id, quantity: 1 },
      ],
      [
        { productId: a.id, quantity: 2 },
        { productId: b.id, quantity: 1 },
      ],
      [{ productId: a.id, quantity: 1 }],
    ];
    for (const lines of variants) {
      expect(await order(t, customer.token, lines, { idempotencyKey: key })).toMatchObject({
        __typename: 'IdempotencyConflictError',
      });
    }
    expect(
      await order(
        t,
        customer.token,
        [
          { productId: a.id, quantity: 1 },
          { productId: b.id, quantity: 1 },
        ],
        { idempotencyKey: key, acceptBackorder: false },
      ),
    ).toMatchObject({ __typename: 'IdempotencyConflictError' });
    expect(await snapshot(t, staff, [a.sku, b.sku], customer.token)).toEqual(before);
    expect(before.orders!.map((o) => o.id)).toEqual([original.id]);
  });

  it('scopes the key to the customer: the same key from someone else is another order', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4);
    const [a, b] = await newCustomers(t, 2);
    const key = uniqueKey();
    const first = placed(await order(t, a!.token, [{ productId: id, quantity: 2 }], { idempotencyKey: key }));
    const second = placed(
      await order(t, b!.token, [{ productId: id, quantity: 2 }], { idempotencyKey: key }),
    );
    expect(second.id).not.toBe(first.id);
    expect((await viewerOrders(t, a!.token)).map((o) => o.id)).toEqual([first.id]);
    expect((await viewerOrders(t, b!.token)).map((o) => o.id)).toEqual([second.id]);
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 4, allocated: 4, available: 0 });
  });

  it('places one order when the same request arrives many times at once', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 2);
    const customer = await newCustomer(t);
    const key = uniqueKey();
    const input = { idempotencyKey: key, acceptBackorder: true, lines: [{ productId: id, quantity: 3 }] };

    const answers = await Promise.all(
      Array.from({ length: 6 }, () => t.ok(PlaceOrderDocument, { input }, customer.token)),
    );
    const ids = new Set(answers.map((a) => placed(a.placeOrder).id));
    expect(ids.size).toBe(1);
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 2,
      allocated: 2,
      available: 0,
      queueLength: 1,
      unitsOnBackorder: 1,
    });
    expect((await viewerOrders(t, customer.token)).map((o) => o.id)).toEqual([...ids]);
    const queue = await t.ok(ProductQueueDocument, { sku, first: 10 }, staff);
    expect(queue.product?.backorders.totalCount).toBe(1);
  });
});

describe('checkouts at the same time', () => {
  it('holds the backorder cap under a rush: 5 served, 3 queued up to the cap, the rest refused', async () => {
    const { id, sku } = await createProduct(t, staff, { backorderLimit: 3 });
    await receive(t, staff, id, 5);
    const customers = await newCustomers(t, 12, 'capped');
    const results = await Promise.all(
      customers.map((c) => order(t, c.token, [{ productId: id, quantity: 1 }])),
    );
    const kinds = results.map((r) =>
      r.__typename === 'PlaceOrderSuccess'
        ? r.order.lines[0]!.backorder
          ? 'queued'
          : 'served'
        : r.__typename,
    );
    expect(kinds.filter((k) => k === 'served')).toHaveLength(5);
    expect(kinds.filter((k) => k === 'queued')).toHaveLength(3);
    expect(kinds.filter((k) => k === 'BackorderLimitError')).toHaveLength(4);
    for (const r of results) {
      if (r.__typename === 'BackorderLimitError')
        expect(r).toMatchObject({ productId: id, remainingCapacity: 0 });
    }
    expect(await stockOf(t, staff, sku)).toEqual({
      onHand: 5,
      allocated: 5,
      available: 0,
      queueLength: 3,
      unitsOnBackorder: 3,
    });
    expect((await queueOf(t, staff, sku)).nodes.map((b) => b.queuePosition)).toEqual([1, 2, 3]);
  });

  it('never deadlocks on orders naming the same products in opposite orders', async () => {
    const a = await createProduct(t, staff);
    const b = await createProduct(t, staff);
    await receive(t, staff, a.id, 4);
    await receive(t, staff, b.id, 4);
    const customers = await newCustomers(t, 10, 'crossing');
    const results = await Promise.all(
      customers.map((c, i) =>
        order(
          t,
          c.token,
          i % 2 === 0
            ? [
                { productId: a.id, quantity: 1 },
                { productId: b.id, quantity: 1 },
              ]
            : [
                { productId: b.id, quantity: 1 },
                { productId: a.id, quantity: 1 },
              ],
        ),
      ),
    );
    expect(results.map((r) => r.__typename)).toEqual(Array(10).fill('PlaceOrderSuccess'));
    for (const sku of [a.sku, b.sku]) {
      expect(await stockOf(t, staff, sku)).toEqual({
        onHand: 4,
        allocated: 4,
        available: 0,
        queueLength: 6,
        unitsOnBackorder: 6,
      });
      expect((await queueOf(t, staff, sku)).nodes.map((n) => n.queuePosition)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
});

describe('a product on several lines of one order', () => {
  it('serves the lines in order, each seeing the stock the earlier ones left, and queues behind itself', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 3);
    const [buyer] = await newCustomers(t, 1);
    const o = placed(
      await order(t, buyer!.token, [
        { productId: id, quantity: 2 },
        { productId: id, quantity: 3 },
        { productId: id, quantity: 1 },
      ]),
    );
    expect(o.status).toBe('AWAITING_STOCK');
    expect(
      o.lines.map((l) => [
        l.quantity,
        l.quantityAllocated,
        l.backorder?.queuePosition,
        l.backorder?.unitsAhead,
      ]),
    ).toEqual([
      [2, 2, undefined, undefined],
      [3, 1, 1, 0],
      [1, 0, 2, 2],
    ]);
    expect(await stockOf(t, staff, sku)).toMatchObject({
      onHand: 3,
      allocated: 3,
      available: 0,
      queueLength: 2,
      unitsOnBackorder: 3,
    });
  });

  it('counts every line of the product against the backorder cap', async () => {
    const { id, sku } = await createProduct(t, staff, { backorderLimit: 2 });
    const [buyer] = await newCustomers(t, 1);
    const refused = await order(t, buyer!.token, [
      { productId: id, quantity: 2 },
      { productId: id, quantity: 1 },
    ]);
    expect(refused).toMatchObject({ __typename: 'BackorderLimitError', remainingCapacity: 0 });
    expect(await stockOf(t, staff, sku)).toMatchObject({ queueLength: 0, unitsOnBackorder: 0 });
  });
});
