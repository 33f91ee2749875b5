import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShipOrderDocument, UpdateInboundDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, order, placed, receive, schedule } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp({ outbox: { etaMarginMs: 3_600_000, pollMs: 200 } });
  staff = await t.token('staff');
});
afterAll(() => t?.stop());

interface Stored {
  id: string;
  type: string;
  subject: string;
  sequence: number;
  body: Record<string, unknown> & { data: Payload };
}

/** The parts of a payload's data these tests read. */
interface Payload {
  backorder: { queuePosition: number | null; estimatedAvailableAt: string | null; status: string };
  order: { status: string };
  product: { availability: Record<string, unknown> };
  [key: string]: unknown;
}

/** Public events about these subjects, in the order they were stored, once the relay has caught up. */
async function eventsAbout(...subjects: string[]): Promise<Stored[]> {
  await t.app.outbox.poke();
  const { rows } = await sql<{ id: string; type: string; subject: string; sequence: number; body: string }>`
    SELECT id, type, subject, sequence, body FROM outbox_event WHERE subject = ANY(${subjects}) ORDER BY position
  `.execute(t.database.db);
  return rows.map((r) => ({ ...r, body: JSON.parse(r.body) }));
}

const localOf = (globalId: string) => Number(Buffer.from(globalId, 'base64').toString().split(':')[1]);

describe('public events from committed changes', () => {
  it('announces a new backorder with its place in the queue and ETA, then each fill, in order per backorder', async () => {
    const { id } = await createProduct(t, staff, { restockLeadTimeDays: 10 });
    const customer = await t.token('customer', 'outbox-a');
    const ids: number[] = [];
    for (const quantity of [3, 2]) {
      const backorder = placed(await order(t, customer, [{ productId: id, quantity }])).lines[0]!.backorder!;
      ids.push(localOf(backorder.id));
    }
    // The relay reads each subject's state right after commit: let it keep up between the changes.
    await t.app.outbox.poke();
    await receive(t, staff, id, 4);
    await t.app.outbox.poke();
    await receive(t, staff, id, 1);
    const [first, second] = [
      await eventsAbout(`backorder:${ids[0]}`),
      await eventsAbout(`backorder:${ids[1]}`),
    ];
    expect(first.map((e) => e.type)).toEqual(['backorder.created', 'backorder.allocated']);
    expect(second.map((e) => e.type)).toEqual([
      'backorder.created',
      'backorder.partially_allocated',
      'backorder.allocated',
    ]);
    expect(second.map((e) => e.sequence)).toEqual([1, 2, 3]);
    const created = second[0]!.body;
    expect(created).toMatchObject({
      type: 'backorder.created',
      version: 1,
      sequence: 1,
      customerId: 'outbox-a',
    });
    expect(created.data.backorder).toMatchObject({ queuePosition: 2, unitsAhead: 3, status: 'WAITING' });
    expect(created.data.backorder.estimatedAvailableAt).toMatch(/^\d{4}-/);
    expect(second[1]!.body.data).toMatchObject({ unitsAllocatedNow: 1, backorder: { quantityAllocated: 1 } });
    expect(second[0]!.id).toMatch(new RegExp(`^evt_\\d+_backorder\\.created_${ids[1]}$`));
  });

  it('writes nothing for a refused order, and relaying the same events again adds nothing', async () => {
    const { id } = await createProduct(t, staff, { backorderPolicy: 'DENY' });
    await t.app.outbox.poke();
    const count = async () =>
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM outbox_event`.execute(t.database.db)).rows[0]!.n,
      );
    const before = await count();
    const customer = await t.token('customer', 'outbox-refused');
    const refused = await order(t, customer, [{ productId: id, quantity: 2 }]);
    expect(refused.__typename).toBe('BackorderNotAllowedError');
    expect(await count()).toBe(before);
    // Rewind the relay: the same source events give the same ids, stored once.
    await sql`UPDATE outbox_cursor SET seq = greatest(seq - 20, 0)`.execute(t.database.db);
    expect(await count()).toBe(before);
    await t.app.outbox.poke();
    expect(await count()).toBe(before);
  });

  it('tells when a product comes back into stock and when it runs low', async () => {
    const { id } = await createProduct(t, staff, { lowStockThreshold: 5 });
    await receive(t, staff, id, 10);
    const customer = await t.token('customer', 'outbox-low');
    placed(await order(t, customer, [{ productId: id, quantity: 6 }]));
    const events = await eventsAbout(`product:${localOf(id)}`);
    expect(events.map((e) => e.type)).toEqual(['product.back_in_stock', 'product.low_stock']);
    expect(events[1]!.body.data).toMatchObject({ availableBefore: 10, availableAfter: 4 });
    expect(events[1]!.body.data.product.availability).toMatchObject({
      status: 'LOW_STOCK',
      quantityAvailable: 4,
    });
  });

  it('tells when an order ships, and each backorder of it that shipped whole', async () => {
    const { id } = await createProduct(t, staff);
    const customer = await t.token('customer', 'outbox-ship');
    const placedOrder = placed(await order(t, customer, [{ productId: id, quantity: 2 }]));
    const backorderId = localOf(placedOrder.lines[0]!.backorder!.id);
    await receive(t, staff, id, 2);
    expect((await t.ok(ShipOrderDocument, { id: placedOrder.id }, staff)).shipOrder.__typename).toBe(
      'ShipOrderSuccess',
    );
    const orderEvents = await eventsAbout(`order:${localOf(placedOrder.id)}`);
    expect(orderEvents.map((e) => e.type)).toEqual(['order.shipped']);
    expect(orderEvents[0]!.body.data.order).toMatchObject({ status: 'SHIPPED' });
    const backorderEvents = await eventsAbout(`backorder:${backorderId}`);
    expect(backorderEvents.map((e) => e.type)).toEqual([
      'backorder.created',
      'backorder.allocated',
      'backorder.shipped',
    ]);
  });

  it('announces an ETA moved by planned supply, past the margin, at most once an hour, never by the clock', async () => {
    const { id } = await createProduct(t, staff, { restockLeadTimeDays: 20 });
    const customer = await t.token('customer', 'outbox-eta');
    const backorderId = localOf(
      placed(await order(t, customer, [{ productId: id, quantity: 2 }])).lines[0]!.backorder!.id,
    );
    // (Relayed before the change: a backorder.created relayed after it would already carry the new ETA.)
    await t.app.outbox.poke();
    // A shipment in 3 days covers it: the ETA moves 17 days earlier.
    const inbound = await schedule(t, staff, id, 5, new Date(Date.now() + 3 * 86_400_000));
    let events = await eventsAbout(`backorder:${backorderId}`);
    expect(events.map((e) => e.type)).toEqual(['backorder.created', 'backorder.eta_moved']);
    expect(events[1]!.body.data.backorder.estimatedAvailableAt).toBe(
      new Date(inbound.expectedAt as string).toISOString(),
    );
    // Moved again within the hour: not announced.
    await t.ok(
      UpdateInboundDocument,
      { input: { id: inbound.id, expectedAt: new Date(Date.now() + 6 * 86_400_000).toISOString() } },
      staff,
    );
    events = await eventsAbout(`backorder:${backorderId}`);
    expect(events.map((e) => e.type)).toEqual(['backorder.created', 'backorder.eta_moved']);
  });

  it('does not announce a move smaller than the margin', async () => {
    const { id } = await createProduct(t, staff);
    const customer = await t.token('customer', 'outbox-margin');
    const inbound = await schedule(t, staff, id, 5, new Date(Date.now() + 3 * 86_400_000));
    const backorderId = localOf(
      placed(await order(t, customer, [{ productId: id, quantity: 2 }])).lines[0]!.backorder!.id,
    );
    await t.ok(
      UpdateInboundDocument,
      {
        input: {
          id: inbound.id,
          expectedAt: new Date(new Date(inbound.expectedAt as string).getTime() + 30 * 60_000).toISOString(),
        },
      },
      staff,
    );
    const events = await eventsAbout(`backorder:${backorderId}`);
    expect(events.map((e) => e.type)).toEqual(['backorder.created']);
  });
});
