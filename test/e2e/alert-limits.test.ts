import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writer } from '../../src/db/transaction.ts';
import { pruneAlertRequests } from '../../src/outbox/retention.ts';
import {
  CancelAvailabilityRequestDocument,
  MyRequestDocument,
  NotifyWhenAvailableDocument,
  type NotifyWhenAvailableMutation,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, receive } from '../helpers/fixtures.ts';

const DAY = 86_400_000;
const CAP = 3;

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({ alerts: { maxPerCustomer: CAP, retentionMs: 2 * DAY } });
  staff = await t.token('staff');
});
afterAll(() => t?.stop());

type Answer = NotifyWhenAvailableMutation['notifyWhenAvailable'];

const notify = async (token: string, productId: string): Promise<Answer> =>
  (await t.ok(NotifyWhenAvailableDocument, { productId }, token)).notifyWhenAvailable;

/** The request's id, failing the test unless the answer is a success. */
function requestId(answer: Answer): string {
  if (answer.__typename !== 'NotifyWhenAvailableSuccess') throw new Error(JSON.stringify(answer));
  return answer.request.id;
}

/** Products that cannot be bought now (none in stock), so that a customer may ask to hear of them. */
const soldOut = (n: number) => Promise.all(Array.from({ length: n }, () => createProduct(t, staff)));

/** Every row of a customer's requests, every request id taken, and the customer's request events. */
async function written(customerId: string) {
  const db = t.database.db;
  const rows = await sql<{ id: number; product_id: number; status: string }>`
    SELECT id, product_id, status FROM availability_request WHERE customer_id = ${customerId} ORDER BY id
  `.execute(db);
  const sequence = await sql<{ last: string | null }>`
    SELECT last_value::text AS last FROM pg_sequences WHERE sequencename LIKE 'availability_request%'
  `.execute(db);
  const events = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM domain_event
    WHERE type = 'AvailabilityRequested' AND payload->>'customerId' = ${customerId}
  `.execute(db);
  return { rows: rows.rows, sequence: sequence.rows, events: events.rows[0]!.n };
}

async function openOf(customerId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM availability_request WHERE customer_id = ${customerId} AND status = 'OPEN'
  `.execute(t.database.db);
  return rows[0]!.n;
}

describe('open back-in-stock requests per customer (MAX_ALERTS_PER_CUSTOMER)', () => {
  it('refuses a new request past the cap with AlertLimitError and writes nothing; asking again for an open one and other customers are unaffected', async () => {
    const products = await soldOut(CAP + 1);
    const alice = await t.token('customer', 'cap-alice');
    const bob = await t.token('customer', 'cap-bob');
    const ids = [];
    for (const p of products.slice(0, CAP)) ids.push(requestId(await notify(alice, p.id)));

    const before = await written('cap-alice');
    const refused = await notify(alice, products[CAP]!.id);
    expect(refused).toEqual({
      __typename: 'AlertLimitError',
      limit: CAP,
      message: `At most ${CAP} open back-in-stock requests per customer: withdraw one to ask for another`,
    });
    expect(await written('cap-alice')).toEqual(before);
    const mine = await t.ok(MyRequestDocument, { sku: products[CAP]!.sku }, alice);
    expect(mine.product?.viewerAvailabilityRequest).toBeNull();

    // Asking again for an open request answers it, at the cap too, and counts it once.
    expect(requestId(await notify(alice, products[0]!.id))).toBe(ids[0]);
    expect(await written('cap-alice')).toEqual(before);
    expect(await openOf('cap-alice')).toBe(CAP);

    // Another customer is not limited by Alice's requests: Bob has up to the cap of his own.
    for (const p of products.slice(1)) {
      expect((await notify(bob, p.id)).__typename).toBe('NotifyWhenAvailableSuccess');
    }
    expect(await openOf('cap-bob')).toBe(CAP);
  });

  it('frees a slot when a request is withdrawn; asking again reopens the withdrawn request, while a fired one is never reopened', async () => {
    const products = await soldOut(CAP + 1);
    const [p1, p2, , p4] = products;
    const carol = await t.token('customer', 'cap-carol');
    const ids = [];
    for (const p of products.slice(0, CAP)) ids.push(requestId(await notify(carol, p.id)));
    expect((await notify(carol, p4!.id)).__typename).toBe('AlertLimitError');

    await t.ok(CancelAvailabilityRequestDocument, { productId: p1!.id }, carol);
    const fourth = requestId(await notify(carol, p4!.id));
    expect((await notify(carol, p1!.id)).__typename).toBe('AlertLimitError');

    // Withdrawing another frees a slot again; asking for p1 once more reopens its withdrawn request.
    await t.ok(CancelAvailabilityRequestDocument, { productId: p2!.id }, carol);
    expect(requestId(await notify(carol, p1!.id))).toBe(ids[0]);
    const { rows } = await written('cap-carol');
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      [expect.any(Number), 'OPEN'],
      [expect.any(Number), 'CANCELLED'],
      [expect.any(Number), 'OPEN'],
      [expect.any(Number), 'OPEN'],
    ]);
    expect(await openOf('cap-carol')).toBe(CAP);
    const reopened = await t.ok(MyRequestDocument, { sku: p1!.sku }, carol);
    expect(reopened.product?.viewerAvailabilityRequest).toEqual({ id: ids[0], status: 'OPEN' });

    // p4 comes back: its request fires and frees a slot. Sold out again, asking makes a new request.
    await receive(t, staff, p4!.id, 1);
    await adjust(t, staff, p4!.id, -1);
    const again = requestId(await notify(carol, p4!.id));
    expect(again).not.toBe(fourth);
    expect((await written('cap-carol')).rows.map((r) => r.status)).toEqual([
      'OPEN',
      'CANCELLED',
      'OPEN',
      'FULFILLED',
      'OPEN',
    ]);
  });

  it('never lets parallel requests of one customer pass the cap', async () => {
    const products = await soldOut(12);
    const dave = await t.token('customer', 'cap-dave');
    const erin = await t.token('customer', 'cap-erin');
    // Each product asked for twice, by each of two customers, all at once: 48 requests in flight.
    const sent = [...products, ...products].flatMap((p) => [
      { who: 'cap-dave', product: p.id, answer: notify(dave, p.id) },
      { who: 'cap-erin', product: p.id, answer: notify(erin, p.id) },
    ]);
    const answers = await Promise.all(sent.map(async (s) => ({ ...s, answer: await s.answer })));
    for (const who of ['cap-dave', 'cap-erin']) {
      const mine = answers.filter((a) => a.who === who);
      const granted = mine.filter((a) => a.answer.__typename === 'NotifyWhenAvailableSuccess');
      const refused = mine.filter((a) => a.answer.__typename === 'AlertLimitError');
      expect(granted.length + refused.length).toBe(mine.length);
      // Both asks for one product got the same request (idempotent), and at most CAP products got one.
      const byProduct = new Map<string, Set<string>>();
      for (const a of granted) {
        byProduct.set(a.product, (byProduct.get(a.product) ?? new Set()).add(requestId(a.answer)));
      }
      expect(byProduct.size).toBe(CAP);
      for (const requests of byProduct.values()) expect(requests.size).toBe(1);
      expect(await openOf(who)).toBe(CAP);
      expect((await written(who)).rows).toHaveLength(CAP);
    }
  });
});

describe('retention of withdrawn and fired requests (ALERT_RETENTION_DAYS)', () => {
  /** Makes a request of the customer's in the given state, closed (or opened) `daysAgo`. */
  async function requestIn(
    state: 'OPEN' | 'CANCELLED' | 'FULFILLED',
    customerId: string,
    daysAgo: number,
  ): Promise<number> {
    const token = await t.token('customer', customerId);
    const [product] = await soldOut(1);
    const id = requestId(await notify(token, product!.id));
    if (state === 'CANCELLED')
      await t.ok(CancelAvailabilityRequestDocument, { productId: product!.id }, token);
    if (state === 'FULFILLED') await receive(t, staff, product!.id, 1);
    const { rows } = await sql<{ id: number; status: string }>`
      UPDATE availability_request
      SET created_at = now() - make_interval(days => ${daysAgo + 1}),
        closed_at = CASE WHEN status = 'OPEN' THEN NULL ELSE now() - make_interval(days => ${daysAgo}) END
      WHERE customer_id = ${customerId} AND product_id = (
        SELECT product_id FROM availability_request WHERE customer_id = ${customerId} ORDER BY id DESC LIMIT 1)
      RETURNING id, status
    `.execute(t.database.db);
    expect(rows).toEqual([{ id: expect.any(Number), status: state }]);
    expect(id).toBeTruthy();
    return rows[0]!.id;
  }

  const left = async (ids: number[]) => {
    const { rows } = await sql<{ id: number }>`
      SELECT id FROM availability_request WHERE id = ANY(${ids}::bigint[]) ORDER BY id
    `.execute(t.database.db);
    return rows.map((r) => r.id);
  };

  it('prunes withdrawn and fired requests past the retention in batches, keeping open and recent ones', async () => {
    const old = [];
    for (let i = 0; i < 3; i++) old.push(await requestIn('CANCELLED', 'prune-old', 40 + i));
    for (let i = 0; i < 2; i++) old.push(await requestIn('FULFILLED', 'prune-old', 31 + i));
    const kept = [
      await requestIn('OPEN', 'prune-keep', 400),
      await requestIn('CANCELLED', 'prune-keep', 29),
      await requestIn('FULFILLED', 'prune-keep', 1),
      await requestIn('CANCELLED', 'prune-keep', 0),
    ];

    expect(await pruneAlertRequests(new Writer(t.database.db).alone(), 30 * DAY, 2)).toBe(old.length);
    expect(await left(old)).toEqual([]);
    expect(await left(kept)).toEqual(kept);
    expect(await pruneAlertRequests(new Writer(t.database.db).alone(), 30 * DAY, 2)).toBe(0);
  });

  it('prunes by the setting in the running retention job', async () => {
    const stale = await requestIn('CANCELLED', 'prune-job', 3);
    const fresh = await requestIn('FULFILLED', 'prune-job', 1);
    const open = await requestIn('OPEN', 'prune-job', 3);
    // The app keeps closed requests 2 days (webhook retention: 7).
    await t.app.webhooks.retention!.run();
    expect(await left([stale, fresh, open])).toEqual([fresh, open]);
  });
});
