import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateCappedProductDocument,
  SetCustomerCapDocument,
  TotalsOfDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { cancelBackorder, localId, newCustomer, shipOrder } from '../helpers/engine.ts';
import {
  cappedOrder,
  createProduct,
  expectCode,
  receive,
  uniqueKey,
  uniqueSku,
} from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  // Products' own caps, with the service-wide default off: "uncapped" below means no cap at all
  // (test/e2e/default-customer-cap.test.ts has the default).
  t = await startTestApp({ maxPerCustomerDefault: 0 });
  staff = await t.token('staff', 'staff-caps');
});
afterAll(() => t?.stop());

const order = (
  token: string,
  lines: { productId: string; quantity: number }[],
  options?: { acceptBackorder?: boolean; idempotencyKey?: string },
) => cappedOrder(t, token, lines, options);

async function capped(cap: number | null, onHand = 0): Promise<{ id: string; sku: string }> {
  const product = await createProduct(t, staff);
  if (cap !== null) {
    const res = await t.ok(SetCustomerCapDocument, { input: { id: product.id, maxPerCustomer: cap } }, staff);
    expect(res.updateProduct).toMatchObject({ product: { maxPerCustomer: cap } });
  }
  if (onHand > 0) await receive(t, staff, product.id, onHand);
  return product;
}

async function eventCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM domain_event`.execute(
    t.app.writer.db,
  );
  return rows[0]!.n;
}

describe('Product.maxPerCustomer', () => {
  it('is set on create, changed and cleared on update, and bounded to 1..1,000,000', async () => {
    const sku = uniqueSku();
    const created = await t.ok(
      CreateCappedProductDocument,
      { input: { sku, name: 'Capped', maxPerCustomer: 3 } },
      staff,
    );
    expect(created.createProduct).toMatchObject({ product: { sku, maxPerCustomer: 3 } });
    const id = (created.createProduct as { product: { id: string } }).product.id;
    const cleared = await t.ok(SetCustomerCapDocument, { input: { id, maxPerCustomer: null } }, staff);
    expect(cleared.updateProduct).toMatchObject({ product: { maxPerCustomer: null } });
    for (const bad of [0, -1, 1_000_001]) {
      const res = await t.gql(SetCustomerCapDocument, { input: { id, maxPerCustomer: bad } }, staff);
      expectCode(res, 'BAD_USER_INPUT');
      const refused = await t.gql(
        CreateCappedProductDocument,
        { input: { sku: uniqueSku(), name: 'x', maxPerCustomer: bad } },
        staff,
      );
      expectCode(refused, 'BAD_USER_INPUT');
    }
    const data = await t.ok(TotalsOfDocument, { sku }, staff);
    expect(data.product?.maxPerCustomer).toBeNull();
  });

  it('admits orders up to the cap and refuses the one past it, writing nothing', async () => {
    const { id } = await capped(5, 100);
    const c = await newCustomer(t, 'cap');
    expect((await order(c.token, [{ productId: id, quantity: 3 }])).__typename).toBe('PlaceOrderSuccess');
    const before = await eventCount();
    const refused = await order(c.token, [{ productId: id, quantity: 3 }]);
    expect(refused).toMatchObject({
      __typename: 'CustomerLimitError',
      productId: id,
      limit: 5,
      remaining: 2,
    });
    expect(await eventCount()).toBe(before);
    expect((await order(c.token, [{ productId: id, quantity: 2 }])).__typename).toBe('PlaceOrderSuccess');
    expect(await order(c.token, [{ productId: id, quantity: 1 }])).toMatchObject({ remaining: 0 });
    // Another customer has a cap of its own.
    const other = await newCustomer(t, 'cap');
    expect((await order(other.token, [{ productId: id, quantity: 5 }])).__typename).toBe('PlaceOrderSuccess');
    const stock = await t.ok(TotalsOfDocument, { sku: (await skuOf(id))! }, staff);
    expect(stock.product?.stock?.allocated).toBe(10);
  });

  it("sums an order's lines of the product", async () => {
    const { id } = await capped(4, 10);
    const c = await newCustomer(t, 'cap');
    const res = await order(c.token, [
      { productId: id, quantity: 2 },
      { productId: id, quantity: 3 },
    ]);
    expect(res).toMatchObject({ __typename: 'CustomerLimitError', limit: 4, remaining: 4 });
  });

  it('is checked before stock, policy and backorder limit, for the first capped product in input order', async () => {
    const soldOut = await capped(1); // no stock at all
    const second = await capped(2);
    const uncapped = await capped(null);
    const c = await newCustomer(t, 'cap');
    // Without a backorder the first line would be refused for stock; the cap speaks first.
    const res = await order(
      c.token,
      [
        { productId: uncapped.id, quantity: 100_000 },
        { productId: second.id, quantity: 3 },
        { productId: soldOut.id, quantity: 2 },
      ],
      { acceptBackorder: false },
    );
    expect(res).toMatchObject({ __typename: 'CustomerLimitError', productId: second.id, limit: 2 });
  });

  it('counts backorders, frees what ships and what is cancelled', async () => {
    const { id } = await capped(10, 4);
    const c = await newCustomer(t, 'cap');
    const first = await order(c.token, [{ productId: id, quantity: 10 }]);
    if (first.__typename !== 'PlaceOrderSuccess') throw new Error(JSON.stringify(first));
    expect(await order(c.token, [{ productId: id, quantity: 1 }])).toMatchObject({ remaining: 0 });

    // Ship the 4 taken at checkout: they no longer count.
    expect((await shipOrder(t, staff, first.order.id)).__typename).toBe('ShipOrderSuccess');
    expect(await order(c.token, [{ productId: id, quantity: 5 }])).toMatchObject({ remaining: 4 });

    // Cancel the backorder of the other 6: only what was shipped of it would still count.
    const backorder = first.order.lines[0]!.backorder!;
    expect((await cancelBackorder(t, c.token, backorder.id)).__typename).toBe('CancelBackorderSuccess');
    expect((await order(c.token, [{ productId: id, quantity: 10 }])).__typename).toBe('PlaceOrderSuccess');
  });

  it('reports remaining as 0, never below, when the cap was lowered under what is held', async () => {
    const { id } = await capped(10, 10);
    const c = await newCustomer(t, 'cap');
    expect((await order(c.token, [{ productId: id, quantity: 8 }])).__typename).toBe('PlaceOrderSuccess');
    await t.ok(SetCustomerCapDocument, { input: { id, maxPerCustomer: 5 } }, staff);
    expect(await order(c.token, [{ productId: id, quantity: 1 }])).toMatchObject({ limit: 5, remaining: 0 });
  });

  it('answers an idempotent repeat with its order before any check', async () => {
    const { id } = await capped(5, 10);
    const c = await newCustomer(t, 'cap');
    const key = uniqueKey();
    const first = await order(c.token, [{ productId: id, quantity: 5 }], { idempotencyKey: key });
    expect(first.__typename).toBe('PlaceOrderSuccess');
    const again = await order(c.token, [{ productId: id, quantity: 5 }], { idempotencyKey: key });
    expect(again).toMatchObject({
      __typename: 'PlaceOrderSuccess',
      order: { id: (first as { order: { id: string } }).order.id },
    });
  });
});

async function skuOf(productId: string): Promise<string | undefined> {
  const row = await t.app.writer.db
    .selectFrom('product')
    .select('sku')
    .where('id', '=', localId(productId))
    .executeTakeFirst();
  return row?.sku;
}
