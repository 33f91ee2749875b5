import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBackordersByIds, rankWholeQueue } from '../../src/db/repos/backorders.ts';
import { findLinesByOrderIds, findOrdersByIds } from '../../src/db/repos/orders.ts';
import { findStockByProductIds, ledgerTotals } from '../../src/db/repos/stock.ts';
import { cancelBackorder } from '../../src/domain/backorders.ts';
import { createProduct } from '../../src/domain/catalog.ts';
import {
  BackorderNotCancellableError,
  IdempotencyConflictError,
  InsufficientStockError,
  NothingToShipError,
} from '../../src/domain/errors.ts';
import { placeOrder as placeWholeOrder, shipOrder } from '../../src/domain/orders.ts';
import { receiveStock } from '../../src/domain/stock.ts';
import type { Actor } from '../../src/domain/types.ts';
import { fromGlobalId } from '../../src/schema/ids.ts';
import { PlaceOrderDocument, ProductQueueDocument, StockOfDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { createProduct as createProductOverHttp, receive, uniqueKey } from '../helpers/fixtures.ts';
import { checkInvariants } from '../helpers/invariants.ts';

/** The order id of a placed order (the domain also says where its backorders joined the queue). */
const placeOrder = (...args: Parameters<typeof placeWholeOrder>) =>
  placeWholeOrder(...args).then((placed) => placed.orderId);

const staff: Actor = { id: 'staff-1', role: 'staff' };
const customer = (i: number): Actor => ({ id: `customer-${i}`, role: 'customer' });

let skus = 0;
async function newProduct(t: TestDatabase, onHand: number): Promise<number> {
  const product = await t.writer.run((tx) =>
    createProduct(tx, {
      sku: `RACE-${++skus}`,
      name: `Race ${skus}`,
      backorderPolicy: 'ALLOW',
      backorderLimit: null,
      lowStockThreshold: null,
      restockLeadTimeDays: null,
    }),
  );
  if (onHand > 0)
    await t.writer.run((tx) =>
      receiveStock(tx, staff, { productId: product.id, quantity: onHand, inboundId: null }),
    );
  return product.id;
}

/** Waits until `count` sessions of this database wait for a lock. */
async function waitForLockWaiters(t: TestDatabase, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'
    `.execute(t.db);
    if (rows[0]!.n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} sessions waiting for a lock`);
}

async function stockOf(t: TestDatabase, productId: number) {
  const [stock] = await findStockByProductIds(t.db, [productId]);
  return stock!;
}

async function backordersOf(t: TestDatabase, productId: number) {
  return t.db
    .selectFrom('backorder')
    .select(['id', 'order_id as orderId', 'status', 'quantity', 'quantity_allocated as quantityAllocated'])
    .where('product_id', '=', productId)
    .orderBy('id')
    .execute();
}

/**
 * The first order's unit of A arrives. Its cancellation is then held (by `blocker`'s row lock) where it hands
 * that unit on to the second order's backorder of A, while a receipt of `units` on B serves both orders'
 * backorders of B. Both must complete and leave every invariant true.
 */
async function cancelOnAWhileBIsServed(
  t: TestDatabase,
  blocker: pg.Client,
  v: { a: number; b: number; first: number; second: number; units: number },
): Promise<void> {
  await t.writer.run((tx) => receiveStock(tx, staff, { productId: v.a, quantity: 1, inboundId: null }));
  const [headA, nextA] = await backordersOf(t, v.a);
  expect(headA).toMatchObject({ orderId: v.first, status: 'ALLOCATED' });
  expect(nextA).toMatchObject({ orderId: v.second, status: 'WAITING' });

  await blocker.query('BEGIN');
  await blocker.query('SELECT 1 FROM backorder WHERE id = $1 FOR UPDATE', [nextA!.id]);
  const [record] = await findBackordersByIds(t.db, [headA!.id]);
  const cancel = settleAll([t.writer.run((tx) => cancelBackorder(tx, staff, record!))]);
  await waitForLockWaiters(t, 1);
  // A fill writes only its own product's backorders: it completes while the cancellation is held.
  const served = await settleAll([
    t.writer.run((tx) => receiveStock(tx, staff, { productId: v.b, quantity: v.units, inboundId: null })),
  ]);
  await blocker.query('COMMIT');
  const results = [...(await cancel), ...served];
  expect(results.filter((r) => !r.ok)).toEqual([]);
  expect(await checkInvariants(t.db, [v.a, v.b])).toEqual([]);
}

/** What each promise did: its value, or the error it was rejected with. */
async function settleAll<T>(
  work: Promise<T>[],
): Promise<({ ok: true; value: T } | { ok: false; error: unknown })[]> {
  return (await Promise.allSettled(work)).map((r) =>
    r.status === 'fulfilled' ? { ok: true, value: r.value } : { ok: false, error: r.reason },
  );
}

describe('concurrent orders through the domain', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ poolMax: 40 });
  });
  afterAll(() => t?.drop());

  it('200 parallel one-unit orders on 50 units: 50 allocated, 150 queued in the order they were recorded', async () => {
    const productId = await newProduct(t, 50);
    const results = await settleAll(
      Array.from({ length: 200 }, (_, i) =>
        t.writer.run((tx) =>
          placeOrder(tx, customer(i), {
            idempotencyKey: `one-${i}`,
            acceptBackorder: true,
            lines: [{ productId, quantity: 1 }],
          }),
        ),
      ),
    );
    const failures = results.filter((r) => !r.ok);
    expect(failures).toEqual([]);
    const orderIds = results.map((r) => (r.ok ? r.value : 0));
    expect(new Set(orderIds).size).toBe(200);

    const stock = await stockOf(t, productId);
    expect(stock).toMatchObject({ onHand: 50, allocated: 50, queueLength: 150, unitsOnBackorder: 150 });
    expect(await ledgerTotals(t.db, productId)).toEqual({ onHand: 50, allocated: 50 });

    const backorders = await backordersOf(t, productId);
    expect(backorders).toHaveLength(150);
    expect(
      backorders.every((b) => b.status === 'WAITING' && b.quantity === 1 && b.quantityAllocated === 0),
    ).toBe(true);
    // Every order either took its unit at once or waits for it, never both, never neither.
    const waitingOrders = new Set(backorders.map((b) => b.orderId));
    expect(waitingOrders.size).toBe(150);
    const lines = await t.db
      .selectFrom('order_line')
      .select(['order_id as orderId', 'quantity_taken as quantityAllocated'])
      .where('product_id', '=', productId)
      .execute();
    expect(lines).toHaveLength(200);
    for (const l of lines) expect(l.quantityAllocated).toBe(waitingOrders.has(l.orderId) ? 0 : 1);

    const ranks = await rankWholeQueue(t.db, productId);
    expect(ranks.map((r) => r.position)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(ranks.map((r) => r.id)).toEqual(backorders.map((b) => b.id));
    expect(ranks.map((r) => r.unitsAhead)).toEqual(Array.from({ length: 150 }, (_, i) => i));

    expect(await checkInvariants(t.db, [productId])).toEqual([]);

    // Units that arrive now go to the head of that queue, in the order it recorded.
    await t.writer.run((tx) => receiveStock(tx, staff, { productId, quantity: 30, inboundId: null }));
    const after = await backordersOf(t, productId);
    expect(after.slice(0, 30).every((b) => b.status === 'ALLOCATED')).toBe(true);
    expect(after.slice(30).every((b) => b.status === 'WAITING')).toBe(true);
    expect(await stockOf(t, productId)).toMatchObject({
      onHand: 80,
      allocated: 80,
      queueLength: 120,
      unitsOnBackorder: 120,
    });
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('orders racing with receipts and cancellations never jump the queue', async () => {
    const productId = await newProduct(t, 10);
    const orders = Array.from({ length: 120 }, (_, i) =>
      t.writer.run((tx) =>
        placeOrder(tx, customer(i), {
          idempotencyKey: `race-${i}`,
          acceptBackorder: true,
          lines: [{ productId, quantity: 1 + (i % 3) }],
        }),
      ),
    );
    const receipts = Array.from({ length: 20 }, () =>
      t.writer.run((tx) => receiveStock(tx, staff, { productId, quantity: 4, inboundId: null })),
    );
    const results = await settleAll<unknown>([...orders, ...receipts]);
    expect(results.filter((r) => !r.ok)).toEqual([]);

    // Cancel every fifth backorder while more stock arrives.
    const waiting = (await backordersOf(t, productId)).filter((b) => b.status !== 'ALLOCATED');
    const cancels = waiting
      .filter((_, i) => i % 5 === 0)
      .map(async (b) => {
        const [record] = await findBackordersByIds(t.db, [b.id]);
        return t.writer.run((tx) => cancelBackorder(tx, staff, record!));
      });
    const more = Array.from({ length: 10 }, () =>
      t.writer.run((tx) => receiveStock(tx, staff, { productId, quantity: 3, inboundId: null })),
    );
    const second = await settleAll<unknown>([...cancels, ...more]);
    expect(second.filter((r) => !r.ok)).toEqual([]);

    const stock = await stockOf(t, productId);
    expect(stock.onHand).toBe(10 + 20 * 4 + 10 * 3);
    expect(stock.allocated).toBe(stock.onHand);
    expect(stock.queueLength).toBeGreaterThan(0);
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('20 parallel retries of one order create it once and take its units once', async () => {
    const productId = await newProduct(t, 10);
    const buyer = customer(1);
    const input = { idempotencyKey: 'same-key', acceptBackorder: true, lines: [{ productId, quantity: 14 }] };
    const results = await settleAll(
      Array.from({ length: 20 }, () => t.writer.run((tx) => placeOrder(tx, buyer, { ...input }))),
    );
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const ids = new Set(results.map((r) => (r.ok ? r.value : 0)));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];

    const orders = await t.db
      .selectFrom('customer_order')
      .select(['id'])
      .where('customer_id', '=', buyer.id)
      .where('idempotency_key', '=', 'same-key')
      .execute();
    expect(orders).toEqual([{ id: orderId }]);
    const lines = await findLinesByOrderIds(t.db, [orderId!]);
    expect(lines.map((l) => [l.quantity, l.quantityAllocated])).toEqual([[14, 10]]);
    expect(await stockOf(t, productId)).toMatchObject({
      onHand: 10,
      allocated: 10,
      queueLength: 1,
      unitsOnBackorder: 4,
    });
    const movements = await t.db
      .selectFrom('stock_movement')
      .select(['kind', 'quantity'])
      .where('product_id', '=', productId)
      .where('kind', '=', 'ALLOCATION')
      .execute();
    expect(movements).toEqual([{ kind: 'ALLOCATION', quantity: 10 }]);
    expect(await backordersOf(t, productId)).toHaveLength(1);
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('the same key with different inputs at the same time: exactly one order, the rest conflict', async () => {
    const productId = await newProduct(t, 100);
    const buyer = customer(2);
    const results = await settleAll(
      Array.from({ length: 20 }, (_, i) =>
        t.writer.run((tx) =>
          placeOrder(tx, buyer, {
            idempotencyKey: 'contested',
            acceptBackorder: true,
            lines: [{ productId, quantity: i + 1 }],
          }),
        ),
      ),
    );
    const winners = results.flatMap((r, i) => (r.ok ? [{ quantity: i + 1, orderId: r.value }] : []));
    expect(winners).toHaveLength(1);
    const losers = results.filter((r) => !r.ok);
    expect(losers).toHaveLength(19);
    for (const l of losers) expect(!l.ok && l.error).toBeInstanceOf(IdempotencyConflictError);

    const [winner] = winners;
    const lines = await t.db
      .selectFrom('order_line')
      .select(['order_id as orderId', 'quantity'])
      .where('product_id', '=', productId)
      .execute();
    expect(lines).toEqual([{ orderId: winner!.orderId, quantity: winner!.quantity }]);
    expect(await stockOf(t, productId)).toMatchObject({ onHand: 100, allocated: winner!.quantity });
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('a refused attempt frees the key for a concurrent one with another input', async () => {
    const productId = await newProduct(t, 3);
    const buyer = customer(3);
    // Odd attempts would be refused (no consent to wait), even ones accept a backorder.
    const results = await settleAll(
      Array.from({ length: 20 }, (_, i) =>
        t.writer.run((tx) =>
          placeOrder(tx, buyer, {
            idempotencyKey: 'refused-first',
            acceptBackorder: i % 2 === 0,
            lines: [{ productId, quantity: 5 }],
          }),
        ),
      ),
    );
    const accepted = results.filter((r, i) => i % 2 === 0 && r.ok).map((r) => (r.ok ? r.value : 0));
    expect(accepted).toHaveLength(10);
    expect(new Set(accepted).size).toBe(1);
    for (const [i, r] of results.entries()) {
      if (i % 2 === 1) {
        expect(r.ok).toBe(false);
        const error = !r.ok && r.error;
        expect(error instanceof InsufficientStockError || error instanceof IdempotencyConflictError).toBe(
          true,
        );
      }
    }
    const orders = await t.db
      .selectFrom('customer_order')
      .select('id')
      .where('customer_id', '=', buyer.id)
      .where('idempotency_key', '=', 'refused-first')
      .execute();
    expect(orders.map((o) => o.id)).toEqual([accepted[0]]);
    expect(await stockOf(t, productId)).toMatchObject({
      onHand: 3,
      allocated: 3,
      queueLength: 1,
      unitsOnBackorder: 2,
    });
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('the same backorder cancelled 10 times at once is cancelled once and its units go on once', async () => {
    const productId = await newProduct(t, 0);
    const first = await t.writer.run((tx) =>
      placeOrder(tx, customer(1), {
        idempotencyKey: 'cancel-race',
        acceptBackorder: true,
        lines: [{ productId, quantity: 4 }],
      }),
    );
    await t.writer.run((tx) =>
      placeOrder(tx, customer(2), {
        idempotencyKey: 'cancel-race',
        acceptBackorder: true,
        lines: [{ productId, quantity: 4 }],
      }),
    );
    await t.writer.run((tx) => receiveStock(tx, staff, { productId, quantity: 6, inboundId: null }));
    const [head, next] = await backordersOf(t, productId);
    expect(head).toMatchObject({ orderId: first, status: 'ALLOCATED', quantityAllocated: 4 });
    expect(next).toMatchObject({ status: 'PARTIALLY_ALLOCATED', quantityAllocated: 2 });

    const [record] = await findBackordersByIds(t.db, [head!.id]);
    const results = await settleAll(
      Array.from({ length: 10 }, () => t.writer.run((tx) => cancelBackorder(tx, staff, record!))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok)) {
      expect(!r.ok && r.error).toBeInstanceOf(BackorderNotCancellableError);
    }
    // The 4 released units complete the next backorder (2 missing); the other 2 become available.
    const [, after] = await backordersOf(t, productId);
    expect(after).toMatchObject({ status: 'ALLOCATED', quantityAllocated: 4 });
    expect(await stockOf(t, productId)).toMatchObject({
      onHand: 6,
      allocated: 4,
      queueLength: 0,
      unitsOnBackorder: 0,
    });
    expect(await checkInvariants(t.db, [productId])).toEqual([]);
  });

  it('the same order shipped 10 times at once ships once', async () => {
    const [a, b] = [await newProduct(t, 5), await newProduct(t, 5)];
    const orderId = await t.writer.run((tx) =>
      placeOrder(tx, customer(1), {
        idempotencyKey: 'ship-race',
        acceptBackorder: true,
        lines: [
          { productId: a, quantity: 3 },
          { productId: b, quantity: 7 },
        ],
      }),
    );
    const [order] = await findOrdersByIds(t.db, [orderId]);
    const results = await settleAll(
      Array.from({ length: 10 }, () => t.writer.run((tx) => shipOrder(tx, staff, order!))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok)) expect(!r.ok && r.error).toBeInstanceOf(NothingToShipError);
    expect(await stockOf(t, a)).toMatchObject({ onHand: 2, allocated: 0 });
    expect(await stockOf(t, b)).toMatchObject({
      onHand: 0,
      allocated: 0,
      queueLength: 1,
      unitsOnBackorder: 2,
    });
    const [after] = await findOrdersByIds(t.db, [orderId]);
    expect(after).toMatchObject({ status: 'AWAITING_STOCK' });
    const shippedLines = await findLinesByOrderIds(t.db, [orderId]);
    expect(shippedLines.reduce((n, l) => n + l.quantityShipped, 0)).toBe(8);
    expect(shippedLines.reduce((n, l) => n + l.quantity - l.quantityAllocated, 0)).toBe(2);
    expect(await checkInvariants(t.db, [a, b])).toEqual([]);
  });

  it('multi-line orders over the same products in opposite line orders, with receipts, all complete', async () => {
    const products = [await newProduct(t, 40), await newProduct(t, 40), await newProduct(t, 40)];
    const [a, b, c] = products as [number, number, number];
    const lineOrders = [
      [a, b, c],
      [c, b, a],
      [b, a],
      [a, c],
      [c, a, b],
      [b, c],
    ];
    const orders = Array.from({ length: 180 }, (_, i) =>
      t.writer.run((tx) =>
        placeOrder(tx, customer(i % 30), {
          idempotencyKey: `multi-${i}`,
          acceptBackorder: true,
          lines: lineOrders[i % lineOrders.length]!.map((productId, j) => ({
            productId,
            quantity: 1 + ((i + j) % 3),
          })),
        }),
      ),
    );
    // Stock arrives for every product while orders come in, so queues are served concurrently too.
    const receipts = Array.from({ length: 30 }, (_, i) =>
      t.writer.run((tx) =>
        receiveStock(tx, staff, { productId: products[i % 3]!, quantity: 5, inboundId: null }),
      ),
    );
    const results = await settleAll<unknown>([...orders, ...receipts]);
    // Postgres breaks a deadlock by failing one of its transactions ("deadlock detected"): none may fail.
    expect(results.filter((r) => !r.ok)).toEqual([]);

    const lines = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM order_line WHERE product_id = ANY(${products}::bigint[])
    `.execute(t.db);
    expect(lines.rows[0]!.n).toBe(lineOrders.reduce((n, l) => n + l.length, 0) * 30);
    expect(await checkInvariants(t.db, products)).toEqual([]);
    for (const p of products) {
      const stock = await stockOf(t, p);
      expect(stock.onHand).toBe(40 + 10 * 5);
      expect(stock.allocated).toBe(stock.onHand);
    }
  });

  it('serving the queues of several products at once while backorders leave them: no deadlock', async () => {
    const products = [await newProduct(t, 0), await newProduct(t, 0), await newProduct(t, 0)];
    const [a, b, c] = products as [number, number, number];
    const lineOrders = [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ];
    // Every order waits on all three products, so each queue's head holds the same orders.
    const placed = await settleAll(
      Array.from({ length: 90 }, (_, i) =>
        t.writer.run((tx) =>
          placeOrder(tx, customer(i), {
            idempotencyKey: `shared-${i}`,
            acceptBackorder: true,
            lines: lineOrders[i % 3]!.map((productId) => ({ productId, quantity: 1 + (i % 2) })),
          }),
        ),
      ),
    );
    expect(placed.filter((r) => !r.ok)).toEqual([]);
    await t.writer.run((tx) => receiveStock(tx, staff, { productId: a, quantity: 60, inboundId: null }));

    const allocated = (await backordersOf(t, a)).filter((bo) => bo.quantityAllocated > 0);
    const cancels = allocated.map(async (bo) => {
      const [record] = await findBackordersByIds(t.db, [bo.id]);
      return t.writer.run((tx) => cancelBackorder(tx, staff, record!));
    });
    const receipts = Array.from({ length: 60 }, (_, i) =>
      t.writer.run((tx) =>
        receiveStock(tx, staff, { productId: products[1 + (i % 2)]!, quantity: 3, inboundId: null }),
      ),
    );
    const results = await settleAll<unknown>([...cancels, ...receipts]);
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(await checkInvariants(t.db, products)).toEqual([]);
  });

  it.each([
    ['the order placed first', false],
    ['the order numbered first but queued second', true],
  ])(
    'a cancellation on one product and a receipt on another serving the same two orders (%s) do not deadlock',
    async (_, inverted) => {
      const [a, b] = [await newProduct(t, 0), await newProduct(t, 0)];
      const lines = [
        { productId: a, quantity: 1 },
        { productId: b, quantity: 1 },
      ];
      const blocker = new pg.Client({ connectionString: t.url });
      const holder = new pg.Client({ connectionString: t.url });
      await blocker.connect();
      await holder.connect();
      try {
        let first: number;
        let second: number;
        if (inverted) {
          // The second order draws its number first (it waits on its idempotency key) and queues behind.
          await holder.query('BEGIN');
          await holder.query(
            `INSERT INTO customer_order (customer_id, idempotency_key, request_hash) VALUES ('late', 'k', 'h')`,
          );
          const late = t.writer.run((tx) =>
            placeOrder(
              tx,
              { id: 'late', role: 'customer' },
              { idempotencyKey: 'k', acceptBackorder: true, lines },
            ),
          );
          await waitForLockWaiters(t, 1);
          first = await t.writer.run((tx) =>
            placeOrder(tx, customer(1), {
              idempotencyKey: 'k',
              acceptBackorder: true,
              lines,
            }),
          );
          await holder.query('ROLLBACK');
          second = await late;
          expect(second).toBeLessThan(first);
        } else {
          first = await t.writer.run((tx) =>
            placeOrder(tx, customer(1), {
              idempotencyKey: 'k2',
              acceptBackorder: true,
              lines,
            }),
          );
          second = await t.writer.run((tx) =>
            placeOrder(tx, customer(2), {
              idempotencyKey: 'k2',
              acceptBackorder: true,
              lines,
            }),
          );
        }
        await cancelOnAWhileBIsServed(t, blocker, { a, b, first, second, units: 2 });
      } finally {
        await blocker.end();
        await holder.end();
      }
    },
  );

  it('a cancellation and a large receipt serving the same orders do not deadlock in a busy shop', async () => {
    // A shop with thousands of past orders and a long queue, where a receipt serves orders that a
    // cancellation on another product is changing at the same moment.
    await sql`
      INSERT INTO customer_order (customer_id, idempotency_key, request_hash)
      SELECT 'past-' || g, 'k', 'h' FROM generate_series(1, 5000) g
    `.execute(t.db);
    const [a, b] = [await newProduct(t, 0), await newProduct(t, 0)];
    const lines = [
      { productId: a, quantity: 1 },
      { productId: b, quantity: 1 },
    ];
    const queued = await settleAll(
      Array.from({ length: 400 }, (_, i) =>
        t.writer.run((tx) =>
          placeOrder(tx, customer(1000 + i), {
            idempotencyKey: 'busy',
            acceptBackorder: true,
            lines: [{ productId: b, quantity: 1 }],
          }),
        ),
      ),
    );
    expect(queued.filter((r) => !r.ok)).toEqual([]);
    const first = await t.writer.run((tx) =>
      placeOrder(tx, customer(1), {
        idempotencyKey: 'busy',
        acceptBackorder: true,
        lines,
      }),
    );
    const second = await t.writer.run((tx) =>
      placeOrder(tx, customer(2), {
        idempotencyKey: 'busy',
        acceptBackorder: true,
        lines,
      }),
    );
    await sql`ANALYZE`.execute(t.db);
    const blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    try {
      // The first order's row is rewritten when its unit of A arrives, behind the second order's in the table.
      await cancelOnAWhileBIsServed(t, blocker, { a, b, first, second, units: 402 });
    } finally {
      await blocker.end();
    }
  });
});

describe('concurrent orders over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ poolMax: 30 });
  });
  afterAll(() => t?.stop());

  it('100 parallel one-unit orders on 25 units: 25 allocated, 75 queued 1..75 in recorded order', async () => {
    const staffToken = await t.token('staff');
    const { id: productId, sku } = await createProductOverHttp(t, staffToken);
    await receive(t, staffToken, productId, 25);
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.token('customer', `shopper-${i}`)),
    );

    const responses = await Promise.all(
      tokens.map((token) =>
        t.gql(
          PlaceOrderDocument,
          {
            input: {
              idempotencyKey: uniqueKey(),
              acceptBackorder: true,
              lines: [{ productId, quantity: 1 }],
            },
          },
          token,
        ),
      ),
    );
    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data?.placeOrder.__typename).toBe('PlaceOrderSuccess');
    }
    const lines = responses.map((res) =>
      res.data?.placeOrder.__typename === 'PlaceOrderSuccess' ? res.data.placeOrder.order.lines[0]! : null,
    );
    const served = lines.filter((l) => l?.backorder === null);
    expect(served).toHaveLength(25);
    for (const l of served) expect(l!.quantityAllocated).toBe(1);
    // Nobody leaves the queue here, so each answer's position stays true: together they are exactly 1..75.
    const positions = lines.flatMap((l) => (l?.backorder ? [l.backorder.queuePosition] : []));
    expect(positions.sort((x, y) => x! - y!)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));

    const stock = await t.ok(StockOfDocument, { sku }, staffToken);
    expect(stock.product).toMatchObject({
      stock: { onHand: 25, allocated: 25, available: 0 },
      availability: { queueLength: 75, unitsOnBackorder: 75 },
    });

    const queue = await t.ok(ProductQueueDocument, { sku, first: 100 }, staffToken);
    const edges = queue.product!.backorders.edges;
    expect(queue.product!.backorders.totalCount).toBe(75);
    expect(edges.map((e) => e.node.queuePosition)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    const localIds = edges.map((e) => fromGlobalId(e.node.id, 'Backorder')!);
    expect(localIds).toEqual([...localIds].sort((x, y) => x - y));
    expect(new Set(edges.map((e) => e.node.customerId)).size).toBe(75);

    // The answers and the queue agree on who stands where.
    const byId = new Map(edges.map((e) => [e.node.id, e.node.queuePosition]));
    for (const l of lines) if (l?.backorder) expect(byId.get(l.backorder.id)).toBe(l.backorder.queuePosition);

    const local = fromGlobalId(productId, 'Product')!;
    const [row] = await findStockByProductIds(t.database.db, [local]);
    expect(row).toMatchObject({ onHand: 25, allocated: 25, queueLength: 75, unitsOnBackorder: 75 });
    expect(await ledgerTotals(t.database.db, local)).toEqual({ onHand: 25, allocated: 25 });
    expect(await checkInvariants(t.database.db, [local])).toEqual([]);
  });

  it('the same idempotency key sent 20 times at once over HTTP answers one order', async () => {
    const staffToken = await t.token('staff');
    const { id: productId, sku } = await createProductOverHttp(t, staffToken);
    await receive(t, staffToken, productId, 2);
    const token = await t.token('customer', 'retrying-shopper');
    const input = { idempotencyKey: uniqueKey(), acceptBackorder: true, lines: [{ productId, quantity: 3 }] };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => t.gql(PlaceOrderDocument, { input }, token)),
    );
    const ids = responses.map((res) =>
      res.data?.placeOrder.__typename === 'PlaceOrderSuccess' ? res.data.placeOrder.order.id : null,
    );
    expect(ids.every((id) => id !== null && id === ids[0])).toBe(true);
    const stock = await t.ok(StockOfDocument, { sku }, staffToken);
    expect(stock.product).toMatchObject({
      stock: { onHand: 2, allocated: 2 },
      availability: { queueLength: 1, unitsOnBackorder: 1 },
    });
    expect(await checkInvariants(t.database.db, [fromGlobalId(productId, 'Product')!])).toEqual([]);
  });
});
