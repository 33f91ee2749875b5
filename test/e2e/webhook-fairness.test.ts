import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createEndpoint, queueBacklog, queueEvent, Receiver, until } from '../helpers/webhooks.ts';

// Endpoints that fail, or hang past the timeout, beside healthy ones, on one instance with the default
// slots (16 in flight, 4 per endpoint): each failing endpoint holds one slot, all of them together at most
// half, and the healthy ones share the rest, however many deliveries wait behind the failing ones.
let t: TestApp;
let staff: string;
const receivers: Receiver[] = [];

const TIMEOUT_MS = 1500;

beforeAll(async () => {
  t = await startTestApp({
    webhooks: {
      allowLoopback: true,
      pollMs: 50,
      backoffBaseMs: 50,
      backoffCapMs: 200,
      maxAttempts: 1000,
      timeoutMs: TIMEOUT_MS,
    },
  });
  staff = await t.token('staff');
});
afterAll(async () => {
  for (const r of receivers) {
    r.release();
    await r.down();
  }
  await t?.stop();
});

async function endpointAt(answer: Receiver['answer']): Promise<{ localId: number; rx: Receiver }> {
  const rx = await Receiver.start();
  rx.answer = answer;
  receivers.push(rx);
  const { localId } = await createEndpoint(t, staff, rx.url());
  return { localId, rx };
}

/** Deliveries in flight (leased, on any instance) per endpoint. */
async function leased(): Promise<Map<number, number>> {
  const { rows } = await sql<{ endpointId: number; n: number }>`
    SELECT endpoint_id AS "endpointId", count(*)::int AS n FROM webhook_delivery
    WHERE status = 'PENDING' AND leased_until > now() GROUP BY endpoint_id
  `.execute(t.database.db);
  return new Map(rows.map((r) => [r.endpointId, r.n]));
}

describe('webhook slots under failing endpoints', () => {
  it('with 22 endpoints failing (16 answering 500, 6 hanging past the timeout), each of 18 healthy ones is served within 5 s', async () => {
    // The failing endpoints come first (the lowest ids), each with a backlog of 4 subjects of 3 events:
    // 8 deliveries each wait behind a head that is being retried.
    const failing: { localId: number; rx: Receiver }[] = [];
    for (let i = 0; i < 22; i++) failing.push(await endpointAt(() => (i < 16 ? 500 : 'hold')));
    const failingIds = failing.map((f) => f.localId);
    await queueBacklog(t.database.db, failingIds, 'backorder:failing', 4, 3);
    t.app.webhooks.poke();
    // Every one of them has failed (the hanging ones by timing out); at most 10 s, since an unfair claim
    // may never get to some of them (checked below)...
    await until(
      'every failing endpoint marked failing',
      async () => {
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM webhook_endpoint
          WHERE id = ANY(${failingIds}::bigint[]) AND failing_since IS NOT NULL
        `.execute(t.database.db);
        return rows[0]!.n === 22;
      },
      10_000,
    ).catch(() => {});
    // ...and whatever was sent to them before that has timed out too.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS + 200));

    const healthy = await Promise.all(Array.from({ length: 18 }, () => endpointAt(() => 204)));
    const queuedAt = Date.now();
    const events = await Promise.all(
      healthy.map((h) => queueEvent(t.database.db, [h.localId], `backorder:healthy-${h.localId}`)),
    );
    t.app.webhooks.poke();

    // While the healthy ones are served: one slot per failing endpoint, at most 8 (half of 16) for all.
    const samples: Map<number, number>[] = [];
    let served = false;
    const sampling = (async () => {
      while (!served) {
        samples.push(await leased());
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      await until(
        'every healthy endpoint served',
        () => healthy.every((h) => h.rx.received.length > 0),
        5000,
      );
    } finally {
      served = true;
      await sampling;
    }
    const waited = healthy.map((h) => h.rx.received[0]!.at - queuedAt);
    expect(Math.max(...waited)).toBeLessThan(5000);
    for (const [i, h] of healthy.entries()) expect(h.rx.ids()).toEqual([events[i]!.id]);

    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      const toFailing = failingIds.map((id) => sample.get(id) ?? 0);
      expect(Math.max(...toFailing)).toBeLessThanOrEqual(1);
      expect(toFailing.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(8);
    }
    for (const f of failing) expect(f.rx.holding).toBeLessThanOrEqual(1);

    // Order per subject holds: no failing endpoint was ever sent anything but the first of a subject.
    for (const f of failing) {
      expect(f.rx.received.length).toBeGreaterThan(0);
      expect(f.rx.received.filter((r) => JSON.parse(r.body).sequence !== 1)).toEqual([]);
    }
  });
});
