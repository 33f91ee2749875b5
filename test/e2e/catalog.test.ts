import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelInboundDocument,
  CatalogDocument,
  CreateProductDocument,
  NodeByIdDocument,
  ProductAvailabilityDocument,
  ProductQueueDocument,
  QueueByStatusDocument,
  StockLedgerDocument,
  UpdateInboundDocument,
  UpdateProductDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  adjust,
  createProduct,
  expectCode,
  receive,
  schedule,
  stockOf,
  uniqueSku,
} from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;
let customer: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
  customer = await t.token('customer');
});
afterAll(() => t?.stop());

describe('catalogue', () => {
  it('creates a product with defaults and reads it by sku, by id and through node', async () => {
    const { id, sku } = await createProduct(t, staff, { lowStockThreshold: 2 });
    const data = await t.ok(ProductAvailabilityDocument, { sku });
    expect(data.product).toMatchObject({
      id,
      sku,
      availability: {
        status: 'BACKORDER',
        quantityAvailable: 0,
        backorderable: true,
        queueLength: 0,
        unitsOnBackorder: 0,
        nextRestockAt: null,
        estimatedAvailableAt: null,
      },
    });
    const node = await t.ok(NodeByIdDocument, { id });
    expect(node.node).toEqual({ __typename: 'Product', id });
  });

  it('answers node(id:) with null for ids no row can have, without an error', async () => {
    const forged = [
      'Product:abc',
      'Product:99999999999999999999',
      'Order:1.5',
      'Backorder:-3',
      'InboundShipment:0',
    ];
    for (const raw of forged) {
      const res = await t.gql(NodeByIdDocument, { id: Buffer.from(raw).toString('base64') }, staff);
      expect(res.errors).toBeUndefined();
      expect(res.data?.node).toBeNull();
    }
  });

  it('refuses an empty status filter on a product queue rather than guessing what it means', async () => {
    const { sku } = await createProduct(t, staff);
    expectCode(await t.gql(QueueByStatusDocument, { sku, status: [], first: 5 }, staff), 'BAD_USER_INPUT');
  });

  it('answers a duplicate sku with a typed error and writes nothing', async () => {
    const { sku } = await createProduct(t, staff);
    const res = await t.ok(CreateProductDocument, { input: { sku, name: 'Again' } }, staff);
    expect(res.createProduct).toMatchObject({ __typename: 'DuplicateSkuError' });
    expect(res.createProduct.__typename === 'DuplicateSkuError' && res.createProduct.message).toContain(sku);
  });

  it('refuses out-of-bounds input with BAD_USER_INPUT and writes nothing', async () => {
    const cases = [
      { sku: 'has space', name: 'x' },
      { sku: 'a'.repeat(65), name: 'x' },
      { sku: uniqueSku(), name: '' },
      { sku: uniqueSku(), name: 'n'.repeat(201) },
      { sku: uniqueSku(), name: 'x', backorderLimit: -1 },
      { sku: uniqueSku(), name: 'x', lowStockThreshold: 1_000_001 },
      { sku: uniqueSku(), name: 'x', restockLeadTimeDays: 3651 },
    ];
    for (const input of cases) {
      const res = await t.gql(CreateProductDocument, { input }, staff);
      expectCode(res, 'BAD_USER_INPUT');
      const read = await t.gql(ProductAvailabilityDocument, { sku: input.sku });
      expect(read.data?.product ?? null).toBeNull();
    }
  });

  it('updates policy and cap; an unknown id is a typed NotFoundError', async () => {
    const { id } = await createProduct(t, staff);
    const res = await t.ok(
      UpdateProductDocument,
      { input: { id, backorderPolicy: 'DENY', backorderLimit: 5 } },
      staff,
    );
    expect(res.updateProduct).toMatchObject({ product: { id, backorderPolicy: 'DENY', backorderLimit: 5 } });
    const missing = await t.ok(
      UpdateProductDocument,
      { input: { id: 'UHJvZHVjdDo5OTk5OTk=', name: 'x' } },
      staff,
    );
    expect(missing.updateProduct).toMatchObject({
      __typename: 'NotFoundError',
      message: 'Product not found',
    });
    const garbage = await t.ok(UpdateProductDocument, { input: { id: 'not-an-id', name: 'x' } }, staff);
    expect(garbage.updateProduct.__typename).toBe('NotFoundError');
  });

  it('lists the catalogue by sku with cursors, and refuses pages outside 1..100', async () => {
    for (const sku of ['CAT-C', 'CAT-A', 'CAT-B']) await createProduct(t, staff, { sku });
    const all: string[] = [];
    let after: string | null | undefined;
    do {
      const page = await t.ok(CatalogDocument, { first: 2, after });
      all.push(...page.products.edges.map((e) => e.node.sku));
      after = page.products.pageInfo.hasNextPage ? page.products.pageInfo.endCursor : null;
    } while (after);
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['CAT-A', 'CAT-B', 'CAT-C']));
    expectCode(await t.gql(CatalogDocument, { first: 0 }), 'BAD_USER_INPUT');
    expectCode(await t.gql(CatalogDocument, { first: 101 }), 'BAD_USER_INPUT');
    expectCode(await t.gql(CatalogDocument, { first: 5, after: 'bogus' }), 'BAD_USER_INPUT');
  });
});

describe('stock and inbound', () => {
  it('receives, adjusts and keeps every change in the ledger, newest first', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 10);
    await adjust(t, staff, id, -3, 'damaged in storage');
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 7, allocated: 0, available: 7 });
    const ledger = await t.ok(StockLedgerDocument, { sku, first: 10 }, staff);
    expect(ledger.product?.stockMovements.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ kind: 'ADJUSTMENT', quantity: -3, reason: 'damaged in storage' }),
      expect.objectContaining({ kind: 'RECEIPT', quantity: 10, reason: null }),
    ]);
  });

  it('refuses to take onHand below allocated (or below zero) with a typed error', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 2);
    const res = await adjust(t, staff, id, -3);
    expect(res.__typename).toBe('StockBelowAllocatedError');
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 2 });
  });

  it('refuses bad stock input with BAD_USER_INPUT and writes nothing', async () => {
    const { id, sku } = await createProduct(t, staff);
    const { ReceiveStockDocument, AdjustStockDocument } = await import('../generated/graphql.ts');
    for (const quantity of [0, -1, 1_000_001]) {
      expectCode(
        await t.gql(ReceiveStockDocument, { input: { productId: id, quantity } }, staff),
        'BAD_USER_INPUT',
      );
    }
    for (const delta of [0, 1_000_001, -1_000_001]) {
      expectCode(
        await t.gql(AdjustStockDocument, { input: { productId: id, delta, reason: 'x' } }, staff),
        'BAD_USER_INPUT',
      );
    }
    expectCode(
      await t.gql(AdjustStockDocument, { input: { productId: id, delta: 1, reason: '' } }, staff),
      'BAD_USER_INPUT',
    );
    expectCode(
      await t.gql(
        AdjustStockDocument,
        { input: { productId: id, delta: 1, reason: 'r'.repeat(501) } },
        staff,
      ),
      'BAD_USER_INPUT',
    );
    const ledger = await t.ok(StockLedgerDocument, { sku, first: 10 }, staff);
    expect(ledger.product?.stockMovements.edges).toEqual([]);
  });

  it('plans inbound shipments, counts receipts against them, and closes them when complete', async () => {
    const { id, sku } = await createProduct(t, staff);
    const later = await schedule(t, staff, id, 5, new Date(Date.now() + 20 * 86_400_000));
    const sooner = await schedule(t, staff, id, 3, new Date(Date.now() + 2 * 86_400_000));
    let queue = await t.ok(ProductQueueDocument, { sku, first: 10 }, staff);
    expect(queue.product?.inbound.map((i) => i.id)).toEqual([sooner.id, later.id]);
    const avail = await t.ok(ProductAvailabilityDocument, { sku });
    expect(avail.product?.availability.nextRestockAt).toBe(sooner.expectedAt);

    await receive(t, staff, id, 2, sooner.id);
    queue = await t.ok(ProductQueueDocument, { sku, first: 10 }, staff);
    expect(queue.product?.inbound.map((i) => i.id)).toEqual([sooner.id, later.id]);
    await receive(t, staff, id, 1, sooner.id);
    queue = await t.ok(ProductQueueDocument, { sku, first: 10 }, staff);
    expect(queue.product?.inbound.map((i) => i.id)).toEqual([later.id]);

    const closed = await t.ok(UpdateInboundDocument, { input: { id: sooner.id, quantity: 9 } }, staff);
    expect(closed.updateInbound.__typename).toBe('InboundClosedError');

    const below = await t
      .ok(UpdateInboundDocument, { input: { id: later.id, quantity: 0 } }, staff)
      .catch(() => null);
    expect(below).toBeNull();
    const moved = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const updated = await t.ok(UpdateInboundDocument, { input: { id: later.id, expectedAt: moved } }, staff);
    expect(updated.updateInbound).toMatchObject({
      inbound: { id: later.id, quantity: 5, expectedAt: moved },
    });

    const cancelled = await t.ok(CancelInboundDocument, { id: later.id }, staff);
    expect(cancelled.cancelInbound).toMatchObject({ inbound: { id: later.id } });
    queue = await t.ok(ProductQueueDocument, { sku, first: 10 }, staff);
    expect(queue.product?.inbound).toEqual([]);
    expect((await t.ok(CancelInboundDocument, { id: later.id }, staff)).cancelInbound.__typename).toBe(
      'InboundClosedError',
    );
    expect(await stockOf(t, staff, sku)).toMatchObject({ onHand: 3 });
  });
});

describe('who is asking', () => {
  it('gives FORBIDDEN to anonymous and customer callers of staff mutations and fields, changing nothing', async () => {
    const sku = uniqueSku();
    for (const token of [undefined, customer]) {
      const res = await t.gql(CreateProductDocument, { input: { sku, name: 'x' } }, token);
      expectCode(res, 'FORBIDDEN');
    }
    expect((await t.gql(ProductAvailabilityDocument, { sku })).data?.product).toBeNull();
    const { sku: existing } = await createProduct(t, staff);
    expectCode(await t.gql(StockLedgerDocument, { sku: existing, first: 5 }, customer), 'FORBIDDEN');
  });
});
