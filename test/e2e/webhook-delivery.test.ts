import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/schema/ids.ts';
import {
  RedeliverWebhookDeliveryDocument,
  RotateWebhookSecretDocument,
  UpdateWebhookEndpointDocument,
  WebhookEndpointsDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import {
  createEndpoint,
  deliveryRows,
  queueEvent,
  type Received,
  Receiver,
  until,
} from '../helpers/webhooks.ts';

// A real receiver on 127.0.0.1; retries are fast so that backoff, dead letters and recovery fit in a test.
let t: TestApp;
let staff: string;
const receivers: Receiver[] = [];

async function receiver(): Promise<Receiver> {
  const r = await Receiver.start();
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  t = await startTestApp({
    webhooks: {
      allowLoopback: true,
      pollMs: 50,
      backoffBaseMs: 50,
      backoffCapMs: 400,
      maxAttempts: 4,
      timeoutMs: 3000,
      concurrency: 8,
      endpointConcurrency: 2,
    },
  });
  staff = await t.token('staff');
});
afterEach(async () => {
  for (const r of receivers.splice(0)) {
    r.release();
    await r.down();
  }
});
afterAll(() => t?.stop());

const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

describe('webhook delivery', () => {
  it('posts the exact body, signed the Standard Webhooks way', async () => {
    const rx = await receiver();
    const endpoint = await createEndpoint(t, staff, rx.url());
    const event = await queueEvent(t.database.db, [endpoint.localId], 'backorder:sig');
    t.app.webhooks.poke();
    await until('the delivery', () => rx.received.length === 1);
    const got = rx.received[0]!;
    expect(got.body).toBe(event.body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe(event.id);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(10);
    expect(new Webhook(endpoint.secret).verify(got.body, headersOf(got))).toEqual(JSON.parse(event.body));
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(got.body, headersOf(got)),
    ).toThrow();
    await until(
      'delivered',
      async () => (await deliveryRows(t.database.db, endpoint.localId))[0]?.status === 'DELIVERED',
    );
  });

  it('signs with both secrets during a rotation overlap, then with the new one alone', async () => {
    const rx = await receiver();
    const endpoint = await createEndpoint(t, staff, rx.url());
    const rotated = await t.ok(
      RotateWebhookSecretDocument,
      { input: { id: endpoint.id, overlapMinutes: 60 } },
      staff,
    );
    if (rotated.rotateWebhookSecret.__typename !== 'RotateWebhookSecretSuccess') throw new Error('rotate');
    const newSecret = rotated.rotateWebhookSecret.secret;
    await queueEvent(t.database.db, [endpoint.localId], 'backorder:rot');
    await until('the delivery', () => rx.received.length === 1);
    const during = rx.received[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(endpoint.secret).verify(during.body, headersOf(during))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, headersOf(during))).not.toThrow();

    const again = await t.ok(
      RotateWebhookSecretDocument,
      { input: { id: endpoint.id, overlapMinutes: 0 } },
      staff,
    );
    if (again.rotateWebhookSecret.__typename !== 'RotateWebhookSecretSuccess') throw new Error('rotate');
    const latest = again.rotateWebhookSecret.secret;
    await queueEvent(t.database.db, [endpoint.localId], 'backorder:rot');
    await until('the second delivery', () => rx.received.length === 2);
    const after = rx.received[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(latest).verify(after.body, headersOf(after))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(after.body, headersOf(after))).toThrow();
  });

  it('a receiver that is down and comes back gets everything, in order per subject', async () => {
    const rx = await receiver();
    const endpoint = await createEndpoint(t, staff, rx.url());
    await rx.down();
    const sent: Record<string, string[]> = {};
    for (let i = 0; i < 5; i++) {
      for (const subject of ['backorder:d1', 'backorder:d2', 'order:d3']) {
        const e = await queueEvent(t.database.db, [endpoint.localId], subject);
        sent[subject] = [...(sent[subject] ?? []), e.id];
      }
    }
    // It fails and backs off while down (the endpoint's maxAttempts of 4 is not reached in this time).
    await until('failed attempts', async () =>
      (await deliveryRows(t.database.db, endpoint.localId)).some((d) => d.attempts >= 1),
    );
    await rx.listen();
    await until('every event', () => new Set(rx.ids()).size === 15, 15_000);
    for (const [subject, ids] of Object.entries(sent)) {
      const firstSeen = [
        ...new Set(rx.received.filter((r) => JSON.parse(r.body).subject === subject).map((r) => r.id)),
      ];
      expect(firstSeen).toEqual(ids);
    }
    // The receiver records a request before the worker has recorded its answer.
    await until('every delivery recorded as delivered', async () =>
      (await deliveryRows(t.database.db, endpoint.localId)).every((d) => d.status === 'DELIVERED'),
    );
  });

  it('backs off, gives up into a dead letter, lets later events of the subject go, and redelivers', async () => {
    const rx = await receiver();
    const endpoint = await createEndpoint(t, staff, rx.url());
    const failing = await queueEvent(t.database.db, [endpoint.localId], 'backorder:dead');
    rx.answer = (r) => (r.id === failing.id ? 503 : 200);
    const later = await queueEvent(t.database.db, [endpoint.localId], 'backorder:dead');
    await until('the later event', () => rx.ids().includes(later.id), 10_000);
    const attempts = rx.received.filter((r) => r.id === failing.id);
    // Four attempts (the setting), then dead; only then did the later event of the subject go.
    expect(attempts).toHaveLength(4);
    expect(rx.ids().indexOf(later.id)).toBe(4);
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual((50 * 2 ** i) / 2 - 5);
    // The receiver sees the later event before the worker has recorded its answer.
    await until('the later delivery recorded', async () =>
      (await deliveryRows(t.database.db, endpoint.localId)).some(
        (d) => d.eventId === later.id && d.status !== 'PENDING',
      ),
    );
    const rows = await deliveryRows(t.database.db, endpoint.localId);
    expect(rows.map((d) => [d.eventId, d.status, d.attempts])).toEqual([
      [failing.id, 'DEAD', 4],
      [later.id, 'DELIVERED', 1],
    ]);
    expect(rows[0]!.lastError).toBe('HTTP 503');
    const recorded = await t.database.db
      .selectFrom('webhook_attempt')
      .select(['status', 'error'])
      .where('delivery_id', '=', rows[0]!.id)
      .execute();
    expect(recorded).toHaveLength(4);
    expect(recorded.every((a) => a.status === 503)).toBe(true);

    rx.answer = () => 204;
    await t.ok(RedeliverWebhookDeliveryDocument, { id: toGlobalId('WebhookDelivery', rows[0]!.id) }, staff);
    await until('the redelivery', () => rx.received.filter((r) => r.id === failing.id).length === 5);
    await until(
      'delivered',
      async () => (await deliveryRows(t.database.db, endpoint.localId))[0]!.status === 'DELIVERED',
    );
    expect((await deliveryRows(t.database.db, endpoint.localId))[0]!.attempts).toBe(1);
  });

  it('a slow endpoint does not hold up another', async () => {
    const slow = await receiver();
    const fast = await receiver();
    slow.answer = () => 'hold';
    const slowEndpoint = await createEndpoint(t, staff, slow.url());
    const fastEndpoint = await createEndpoint(t, staff, fast.url());
    for (let i = 0; i < 10; i++) {
      await queueEvent(t.database.db, [slowEndpoint.localId], `backorder:slow-${i}`);
      await queueEvent(t.database.db, [fastEndpoint.localId], `backorder:fast-${i}`);
    }
    t.app.webhooks.poke();
    await until('the fast endpoint has everything', () => fast.received.length === 10, 2500);
    // The slow one holds only its own share of requests (endpoint concurrency 2).
    expect(slow.holding).toBe(2);
    slow.release();
    slow.answer = () => 204;
    await until('the slow endpoint catches up', () => new Set(slow.ids()).size === 10, 10_000);
  });

  it('does not follow redirects', async () => {
    const rx = await receiver();
    rx.answer = () => 302;
    const endpoint = await createEndpoint(t, staff, rx.url());
    await queueEvent(t.database.db, [endpoint.localId], 'backorder:redirect');
    await until(
      'a failed attempt',
      async () => (await deliveryRows(t.database.db, endpoint.localId))[0]!.attempts >= 1,
    );
    expect((await deliveryRows(t.database.db, endpoint.localId))[0]!.lastError).toMatch(
      /302: redirects are not followed/,
    );
    await t.ok(UpdateWebhookEndpointDocument, { input: { id: endpoint.id, enabled: false } }, staff);
  });
});

describe('an endpoint that keeps failing', () => {
  it('is disabled with a reason staff see, and resumes when enabled again', async () => {
    const app = await startTestApp({
      webhooks: {
        allowLoopback: true,
        pollMs: 50,
        backoffBaseMs: 50,
        backoffCapMs: 100,
        disableAfterMs: 400,
      },
    });
    try {
      const token = await app.token('staff');
      const rx = await Receiver.start();
      receivers.push(rx);
      rx.answer = () => 500;
      const endpoint = await createEndpoint(app, token, rx.url());
      const event = await queueEvent(app.database.db, [endpoint.localId], 'backorder:disable');
      const endpointState = async () =>
        (await app.ok(WebhookEndpointsDocument, { first: 10 }, token)).webhookEndpoints.edges[0]!.node;
      await until('disabled', async () => !(await endpointState()).enabled, 10_000);
      const state = await endpointState();
      expect(state.disabledReason).toMatch(/^Failing since \d{4}-.*Z: HTTP 500$/);
      expect(state.failingSince).not.toBeNull();
      // Recorded as staff disabling it would be, in the change log everyone follows.
      const { rows: recorded } = await sql<{ payload: unknown }>`
        SELECT payload FROM domain_event
        WHERE type = 'WebhookEndpointUpdated' AND (payload->>'endpointId')::bigint = ${endpoint.localId}
      `.execute(app.database.db);
      expect(recorded.map((r) => r.payload)).toEqual([
        { type: 'WebhookEndpointUpdated', endpointId: endpoint.localId, changed: ['enabled'], v: 1 },
      ]);
      // Disabled: nothing more is sent.
      const count = rx.received.length;
      await new Promise((r) => setTimeout(r, 300));
      expect(rx.received.length).toBe(count);

      rx.answer = () => 204;
      await app.ok(UpdateWebhookEndpointDocument, { input: { id: endpoint.id, enabled: true } }, token);
      await until(
        'delivered after enabling',
        async () => (await deliveryRows(app.database.db, endpoint.localId))[0]!.status === 'DELIVERED',
      );
      expect(rx.ids().at(-1)).toBe(event.id);
      const healthy = await endpointState();
      expect(healthy).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    } finally {
      await app.stop();
    }
  });
});

describe('addresses refused at send time', () => {
  it('never connects to loopback when the setting is off, by name or by address', async () => {
    const app = await startTestApp({ webhooks: { pollMs: 50, backoffBaseMs: 5000 } });
    try {
      const token = await app.token('staff');
      const rx = await Receiver.start();
      receivers.push(rx);
      // https is accepted when saved; where it leads is checked when connecting.
      const byName = await createEndpoint(app, token, `https://localhost:${rx.port}/hook`);
      const byAddress = await createEndpoint(app, token, `https://127.0.0.1:${rx.port}/hook`);
      const mapped = await createEndpoint(app, token, `https://[::ffff:127.0.0.1]:${rx.port}/hook`);
      for (const e of [byName, byAddress, mapped])
        await queueEvent(app.database.db, [e.localId], 'backorder:ssrf');
      for (const e of [byName, byAddress, mapped]) {
        await until(
          'a refused attempt',
          async () => (await deliveryRows(app.database.db, e.localId))[0]!.attempts === 1,
        );
        expect((await deliveryRows(app.database.db, e.localId))[0]!.lastError).toMatch(
          /is a loopback address/,
        );
      }
      expect(rx.received).toHaveLength(0);
    } finally {
      await app.stop();
    }
  });
});
