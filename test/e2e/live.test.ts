import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WatchAvailabilityDocument, WatchBackorderDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, order, placed, receive } from '../helpers/fixtures.ts';
import { connect, subscribe } from '../helpers/live.ts';

let t: TestApp;
let staff: string;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t?.stop();
});

function client(token?: string): Client {
  const c = connect(t.port, token);
  clients.push(c);
  return c;
}

describe('live updates over graphql-ws', () => {
  it('sends the current availability at once, then after an order moves it', async () => {
    const { id } = await createProduct(t, staff);
    await receive(t, staff, id, 3);
    const sub = subscribe(client(), WatchAvailabilityDocument, { productId: id });
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 3);
    const customer = await t.token('customer', 'live-1');
    placed(await order(t, customer, [{ productId: id, quantity: 2 }]));
    const after = await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 1);
    expect(after.productAvailabilityChanged.availability.status).toBe('IN_STOCK');
    sub.stop();
  });

  it('tells a waiting customer when its backorder is allocated and moves those behind', async () => {
    const { id } = await createProduct(t, staff);
    const tokens = await Promise.all([1, 2, 3].map((i) => t.token('customer', `queue-${i}`)));
    const backorders: string[] = [];
    for (const token of tokens) {
      const o = placed(await order(t, token, [{ productId: id, quantity: 1 }]));
      backorders.push(o.lines[0]!.backorder!.id);
    }
    const subs = backorders.map((bid, i) =>
      subscribe(client(tokens[i]), WatchBackorderDocument, { id: bid }),
    );
    await subs[2]!.until((d) => d.backorderUpdated.queuePosition === 3);
    await receive(t, staff, id, 1);
    const served = await subs[0]!.until((d) => d.backorderUpdated.status === 'ALLOCATED');
    expect(served.backorderUpdated).toMatchObject({ queuePosition: null, quantityAllocated: 1 });
    await subs[1]!.until((d) => d.backorderUpdated.queuePosition === 1);
    await subs[2]!.until((d) => d.backorderUpdated.queuePosition === 2);
    for (const s of subs) s.stop();
  });

  it("refuses to let a customer watch someone else's backorder", async () => {
    const { id } = await createProduct(t, staff);
    const owner = await t.token('customer', 'owner');
    const o = placed(await order(t, owner, [{ productId: id, quantity: 1 }]));
    const intruder = await t.token('customer', 'intruder');
    const sub = subscribe(client(intruder), WatchBackorderDocument, { id: o.lines[0]!.backorder!.id });
    const errors = await sub.failed;
    expect(errors.map((e) => e.message)).toEqual(['Backorder not found']);
    expect(sub.messages.filter((m) => m.data)).toEqual([]);
  });
});
