import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimDue } from '../../src/db/repos/webhooks.ts';
import { Writer } from '../../src/db/transaction.ts';
import { newSecret } from '../../src/domain/webhooks.ts';
import { type App, buildApp } from '../../src/edge/app/server.ts';
import { TOKEN_DEFAULTS } from '../../src/edge/settings/defaults.ts';
import { opsDefaults } from '../../src/edge/settings/ops-settings.ts';
import { WEBHOOK_DEFAULTS, type WebhookSettings } from '../../src/outbox/webhook-settings.ts';
import { TEST_SECRET } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { deliveryRows, queueEvent, type Received, Receiver, until } from '../helpers/webhooks.ts';

// Several instances on one database, and instances that stop mid-delivery: the lease and the event id
// make every event arrive, at least once, never twice at the same time.
let database: TestDatabase;
let rx: Receiver;
const apps: App[] = [];

const settings: WebhookSettings = {
  ...WEBHOOK_DEFAULTS,
  allowLoopback: true,
  pollMs: 50,
  backoffBaseMs: 50,
  backoffCapMs: 200,
  timeoutMs: 5000,
};

async function instance(): Promise<App> {
  const app = buildApp({
    databaseUrl: database.url,
    jwtSecret: TEST_SECRET,
    pool: { max: 5, connectionTimeoutMs: 10_000, statementTimeoutMs: 30_000 },
    mergeWindowMs: 50,
    production: false,
    tokens: TOKEN_DEFAULTS,
    ops: opsDefaults(false),
    webhooks: settings,
  });
  await app.start(0, '127.0.0.1');
  apps.push(app);
  return app;
}

async function endpoint(enabled = true): Promise<{ id: number; secret: string }> {
  const secret = newSecret();
  const { id } = await database.db
    .insertInto('webhook_endpoint')
    .values({ url: rx.url(), description: null, event_types: ['backorder.created'], enabled, secret })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id, secret };
}

const verify = (secret: string, r: Received) =>
  new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  });

beforeAll(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  rx.release();
  await rx.down();
  await Promise.all(apps.splice(0).map((a) => a.stop()));
});
afterAll(() => database?.drop());

describe('webhook delivery across instances', () => {
  it('resends with the same event id after an instance stops mid-delivery', async () => {
    rx = await Receiver.start();
    rx.answer = () => 'hold';
    const first = await instance();
    const e = await endpoint();
    const event = await queueEvent(database.db, [e.id], 'backorder:stop');
    first.webhooks.poke();
    await until('the request held open', () => rx.holding === 1);
    await first.stop();
    apps.splice(apps.indexOf(first), 1);
    // Handed back without counting an attempt: nobody heard an answer.
    expect(await deliveryRows(database.db, e.id)).toMatchObject([{ status: 'PENDING', attempts: 0 }]);

    rx.answer = () => 204;
    await instance();
    await until('sent again', () => rx.received.length === 2);
    expect(rx.ids()).toEqual([event.id, event.id]);
    for (const r of rx.received) expect(verify(e.secret, r)).toEqual(JSON.parse(event.body));
    await until('delivered', async () => (await deliveryRows(database.db, e.id))[0]!.status === 'DELIVERED');
  });

  it('sends again once the lease of a worker that died lapses, not before', async () => {
    rx = await Receiver.start();
    const e = await endpoint();
    const event = await queueEvent(database.db, [e.id], 'backorder:lease');
    // A worker claims it and dies without a word: its lease is all that is left. Then an instance starts.
    const claimedAt = Date.now();
    const limits = { limit: 1, failingLimit: 1, endpointConcurrency: 4, failingEndpointConcurrency: 1 };
    expect(await claimDue(new Writer(database.db).alone(), { ...limits, leaseMs: 800 })).toHaveLength(1);
    await instance();
    await until('sent after the lease lapsed', () => rx.received.length === 1, 5000);
    expect(rx.received[0]!.at - claimedAt).toBeGreaterThanOrEqual(750);
    expect(rx.ids()).toEqual([event.id]);
  });

  it('two instances deliver each event once, each subject in order', async () => {
    rx = await Receiver.start();
    rx.answer = async () => {
      await new Promise((r) => setTimeout(r, 5));
      return 204;
    };
    const [a, b] = [await instance(), await instance()];
    const e = await endpoint();
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 10; i++) {
      for (let s = 0; s < 20; s++) {
        const subject = `backorder:pair-${s}`;
        const event = await queueEvent(database.db, [e.id], subject);
        sent.set(subject, [...(sent.get(subject) ?? []), event.id]);
      }
    }
    a.webhooks.poke();
    b.webhooks.poke();
    await until('every event', () => rx.received.length >= 200, 20_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received).toHaveLength(200);
    expect(new Set(rx.ids()).size).toBe(200);
    for (const [subject, ids] of sent) {
      expect(rx.received.filter((r) => JSON.parse(r.body).subject === subject).map((r) => r.id)).toEqual(ids);
    }
    const byA = a.webhooks.worker!.delivered;
    const byB = b.webhooks.worker!.delivered;
    expect(byA + byB).toBe(200);
    expect(Math.min(byA, byB)).toBeGreaterThan(0);
  });
});
