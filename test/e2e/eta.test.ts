import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelInboundDocument,
  EngineAvailabilityDocument,
  EngineUpdateProductDocument,
  UpdateInboundDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  availabilityOf,
  backorderById,
  DAY_MS,
  expectLeadTimeEta,
  newCustomer,
  queueOf,
  timed,
} from '../helpers/engine.ts';
import { createProduct, expectCode, order, placed, receive, schedule } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff', 'staff-eta');
});
afterAll(() => t?.stop());

/** A date `days` ahead, off any round hour, so that an estimate can only match it by coming from it. */
const ahead = (days: number) => new Date(Date.now() + days * DAY_MS + 12_345);

async function setLeadTime(productId: string, restockLeadTimeDays: number | null) {
  const res = await t.ok(
    EngineUpdateProductDocument,
    { input: { id: productId, restockLeadTimeDays } },
    staff,
  );
  expect(res.updateProduct).toMatchObject({ product: { restockLeadTimeDays } });
}

async function etas(sku: string) {
  return (await queueOf(t, staff, sku)).nodes.map((b) => b.estimatedAvailableAt);
}

describe('estimatedAvailableAt of a backorder', () => {
  it('walks open shipments by expectedAt, follows moved, resized, cancelled and received shipments', async () => {
    const product = await createProduct(t, staff);
    const d1 = ahead(2);
    const d2 = ahead(9);
    const d0 = ahead(1);
    // Scheduled out of date order: the walk follows expectedAt, not creation.
    const s2 = await schedule(t, staff, product.id, 3, d2);
    const s1 = await schedule(t, staff, product.id, 2, d1);

    const ids: string[] = [];
    const tokens: string[] = [];
    for (const quantity of [1, 2, 2, 1]) {
      const customer = await newCustomer(t);
      const result = placed(await order(t, customer.token, [{ productId: product.id, quantity }]));
      ids.push(result.lines[0]!.backorder!.id);
      tokens.push(customer.token);
    }
    // Units ahead plus own: 1, 3, 5, 6 against 2 by d1 and 5 by d2; past that, no lead time: null.
    expect(await etas(product.sku)).toEqual([d1.toISOString(), d2.toISOString(), d2.toISOString(), null]);
    expect((await backorderById(t, tokens[1]!, ids[1]!))?.estimatedAvailableAt).toBe(d2.toISOString());

    // Past the planned supply: now + lead time, rounded up to the next full hour.
    await setLeadTime(product.id, 10);
    const withLead = await timed(() => etas(product.sku));
    expect(withLead.value.slice(0, 3)).toEqual([d1.toISOString(), d2.toISOString(), d2.toISOString()]);
    expectLeadTimeEta(withLead.value[3], withLead, 10);

    // A bigger first shipment covers more of the queue.
    const resized = await t.ok(UpdateInboundDocument, { input: { id: s1.id, quantity: 3 } }, staff);
    expect(resized.updateInbound).toMatchObject({ inbound: { id: s1.id, quantity: 3 } });
    expect(await etas(product.sku)).toEqual([
      d1.toISOString(),
      d1.toISOString(),
      d2.toISOString(),
      d2.toISOString(),
    ]);

    // Moving the second shipment before the first changes the walk's order.
    const moved = await t.ok(
      UpdateInboundDocument,
      { input: { id: s2.id, expectedAt: d0.toISOString() } },
      staff,
    );
    expect(moved.updateInbound).toMatchObject({ inbound: { id: s2.id, expectedAt: d0.toISOString() } });
    expect(await etas(product.sku)).toEqual([
      d0.toISOString(),
      d0.toISOString(),
      d1.toISOString(),
      d1.toISOString(),
    ]);
    expect((await availabilityOf(t, product.sku)).nextRestockAt).toBe(d0.toISOString());

    // A cancelled shipment leaves every estimate.
    const cancelled = await t.ok(CancelInboundDocument, { id: s2.id }, staff);
    expect(cancelled.cancelInbound.__typename).toBe('CancelInboundSuccess');
    const afterCancel = await timed(() => etas(product.sku));
    expect(afterCancel.value.slice(0, 2)).toEqual([d1.toISOString(), d1.toISOString()]);
    expectLeadTimeEta(afterCancel.value[2], afterCancel, 10);
    expectLeadTimeEta(afterCancel.value[3], afterCancel, 10);
    expect((await availabilityOf(t, product.sku)).nextRestockAt).toBe(d1.toISOString());

    // Receiving part of a shipment: what is still to come is what counts.
    const received = await receive(t, staff, product.id, 2, s1.id);
    expect(received.allocations.map((a) => [a.backorder.id, a.quantity, a.backorder.status])).toEqual([
      [ids[0], 1, 'ALLOCATED'],
      [ids[1], 1, 'PARTIALLY_ALLOCATED'],
    ]);
    expect((await backorderById(t, tokens[0]!, ids[0]!))?.estimatedAvailableAt).toBeNull();
    const afterReceipt = await timed(() => queueOf(t, staff, product.sku));
    const nodes = afterReceipt.value.nodes;
    expect(nodes.map((b) => [b.id, b.queuePosition, b.unitsAhead])).toEqual([
      [ids[1], 1, 0],
      [ids[2], 2, 1],
      [ids[3], 3, 3],
    ]);
    expect(nodes[0]!.estimatedAvailableAt).toBe(d1.toISOString());
    expectLeadTimeEta(nodes[1]!.estimatedAvailableAt, afterReceipt, 10);

    // Without a lead time, what the planned supply does not cover has no estimate.
    await setLeadTime(product.id, null);
    expect(await etas(product.sku)).toEqual([d1.toISOString(), null, null]);
  });

  it('uses the lead time alone when nothing is planned, rounded up to the next full hour', async () => {
    const product = await createProduct(t, staff, { restockLeadTimeDays: 3 });
    const customer = await newCustomer(t);
    const answer = await timed(() => order(t, customer.token, [{ productId: product.id, quantity: 2 }]));
    const backorder = placed(answer.value).lines[0]!.backorder!;
    expectLeadTimeEta(backorder.estimatedAvailableAt, answer, 3);
    const eta = Date.parse(backorder.estimatedAvailableAt!);
    expect(eta % 3_600_000).toBe(0);
    expect(eta).toBeGreaterThanOrEqual(answer.before + 3 * DAY_MS);
    expect(eta).toBeLessThanOrEqual(answer.after + 3 * DAY_MS + 3_600_000);

    const read = await timed(() => backorderById(t, customer.token, backorder.id));
    expectLeadTimeEta(read.value?.estimatedAvailableAt, read, 3);
  });
});

describe('Availability.estimatedAvailableAt(quantity)', () => {
  it('is now when that many are available, else the walk for the missing rest, else null', async () => {
    const product = await createProduct(t, staff);
    await receive(t, staff, product.id, 3);

    const available = await timed(() => availabilityOf(t, product.sku, 3));
    const now = Date.parse(available.value.estimatedAvailableAt!);
    expect(now).toBeGreaterThanOrEqual(available.before);
    expect(now).toBeLessThanOrEqual(available.after);
    expect((await availabilityOf(t, product.sku, 4)).estimatedAvailableAt).toBeNull();

    const d1 = ahead(4);
    await schedule(t, staff, product.id, 2, d1);
    expect((await availabilityOf(t, product.sku, 4)).estimatedAvailableAt).toBe(d1.toISOString());
    expect((await availabilityOf(t, product.sku, 5)).estimatedAvailableAt).toBe(d1.toISOString());
    expect((await availabilityOf(t, product.sku, 6)).estimatedAvailableAt).toBeNull();

    await setLeadTime(product.id, 7);
    const past = await timed(() => availabilityOf(t, product.sku, 6));
    expectLeadTimeEta(past.value.estimatedAvailableAt, past, 7);

    // A backorder the cap would refuse has no estimate.
    await t.ok(EngineUpdateProductDocument, { input: { id: product.id, backorderLimit: 2 } }, staff);
    expect((await availabilityOf(t, product.sku, 5)).estimatedAvailableAt).toBe(d1.toISOString());
    expect((await availabilityOf(t, product.sku, 6)).estimatedAvailableAt).toBeNull();

    // Nor one the policy refuses; what is in stock is still available now.
    await t.ok(EngineUpdateProductDocument, { input: { id: product.id, backorderPolicy: 'DENY' } }, staff);
    expect((await availabilityOf(t, product.sku, 4)).estimatedAvailableAt).toBeNull();
    const stillNow = await timed(() => availabilityOf(t, product.sku, 1));
    expect(Date.parse(stillNow.value.estimatedAvailableAt!)).toBeGreaterThanOrEqual(stillNow.before);
    expect(Date.parse(stillNow.value.estimatedAvailableAt!)).toBeLessThanOrEqual(stillNow.after);

    expectCode(await t.gql(EngineAvailabilityDocument, { sku: product.sku, quantity: 0 }), 'BAD_USER_INPUT');
    expectCode(
      await t.gql(EngineAvailabilityDocument, { sku: product.sku, quantity: 100_001 }),
      'BAD_USER_INPUT',
    );
  });

  it('joins the tail: the units already on backorder come first', async () => {
    const product = await createProduct(t, staff);
    const d1 = ahead(3);
    const d2 = ahead(6);
    await schedule(t, staff, product.id, 5, d1);
    await schedule(t, staff, product.id, 5, d2);
    const customer = await newCustomer(t);
    placed(await order(t, customer.token, [{ productId: product.id, quantity: 4 }]));

    expect((await availabilityOf(t, product.sku, 1)).estimatedAvailableAt).toBe(d1.toISOString());
    expect((await availabilityOf(t, product.sku, 2)).estimatedAvailableAt).toBe(d2.toISOString());
    expect((await availabilityOf(t, product.sku, 6)).estimatedAvailableAt).toBe(d2.toISOString());
    expect((await availabilityOf(t, product.sku, 7)).estimatedAvailableAt).toBeNull();
  });
});

describe('estimatedAvailableAt of an InsufficientStockError', () => {
  it('is what a backorder of the missing units would get, and null when it would be refused', async () => {
    const product = await createProduct(t, staff, { backorderLimit: 2 });
    await receive(t, staff, product.id, 1);
    const d1 = ahead(5);
    await schedule(t, staff, product.id, 10, d1);
    const customer = await newCustomer(t);

    const fits = await order(t, customer.token, [{ productId: product.id, quantity: 3 }], {
      acceptBackorder: false,
    });
    expect(fits).toMatchObject({
      __typename: 'InsufficientStockError',
      quantityAvailable: 1,
      estimatedAvailableAt: d1.toISOString(),
    });
    expect((await availabilityOf(t, product.sku, 3)).estimatedAvailableAt).toBe(d1.toISOString());

    // Three missing units are over the cap of two: no backorder, so no date to promise.
    const over = await order(t, customer.token, [{ productId: product.id, quantity: 4 }], {
      acceptBackorder: false,
    });
    expect(over).toMatchObject({
      __typename: 'InsufficientStockError',
      quantityAvailable: 1,
      estimatedAvailableAt: null,
    });
    expect((await availabilityOf(t, product.sku, 4)).estimatedAvailableAt).toBeNull();
  });
});
