import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writer } from '../../src/db/transaction.ts';
import { pruneOnce } from '../../src/outbox/retention.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { queueEvent } from '../helpers/webhooks.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

const WEEK = 7 * 86_400_000;

describe('retention', () => {
  it('prunes delivered deliveries, their attempts, unneeded events and the read change log, in batches', async () => {
    const db = database.db;
    const { id: endpoint } = await db
      .insertInto('webhook_endpoint')
      .values({ url: 'https://erp.example/', description: null, event_types: [], secret: 'whsec_x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Old and delivered (5), old and dead, old and pending, recently delivered.
    const old = [];
    for (let i = 0; i < 5; i++) old.push(await queueEvent(db, [endpoint], `backorder:old-${i}`));
    const dead = await queueEvent(db, [endpoint], 'backorder:dead');
    const pending = await queueEvent(db, [endpoint], 'backorder:pending');
    const recent = await queueEvent(db, [endpoint], 'backorder:recent');
    const byEvent = (ids: string[]) =>
      sql`event_position IN (SELECT position FROM outbox_event WHERE id = ANY(${ids}))`;
    await sql`UPDATE outbox_event SET created_at = now() - interval '8 days'`.execute(db);
    await sql`UPDATE webhook_delivery SET status = 'DELIVERED', delivered_at = now() - interval '8 days'
      WHERE ${byEvent(old.map((e) => e.id))}`.execute(db);
    await sql`UPDATE webhook_delivery SET status = 'DEAD' WHERE ${byEvent([dead.id])}`.execute(db);
    await sql`UPDATE webhook_delivery SET status = 'DELIVERED', delivered_at = now() WHERE ${byEvent([recent.id])}`.execute(
      db,
    );
    await sql`INSERT INTO webhook_attempt (delivery_id, status, error, duration_ms)
      SELECT id, 500, 'HTTP 500', 10 FROM webhook_delivery`.execute(db);

    // The change log: 9 old rows, of which the relay has read 7; then a recent one.
    await sql`INSERT INTO domain_event (type, product_ids, payload, created_at)
      SELECT 'ProductCreated', '{}', '{}'::jsonb, now() - interval '8 days' FROM generate_series(1, 9)`.execute(
      db,
    );
    const { rows } = await sql<{ seq: number }>`SELECT max(seq) AS seq FROM domain_event`.execute(db);
    const cursor = rows[0]!.seq - 2;
    await sql`UPDATE outbox_cursor SET seq = ${cursor}`.execute(db);
    await sql`INSERT INTO domain_event (type, product_ids, payload) VALUES ('ProductCreated', '{}', '{}')`.execute(
      db,
    );
    const recentSeq = cursor + 3;

    const pruned = await pruneOnce(new Writer(db).alone(), WEEK, 2);
    expect(pruned).toEqual({ deliveries: 5, events: 5, changes: 7 });

    const left = await db
      .selectFrom('webhook_delivery as d')
      .innerJoin('outbox_event as o', 'o.position', 'd.event_position')
      .select(['o.id', 'd.status'])
      .orderBy('d.id')
      .execute();
    expect(left.map((d) => d.id)).toEqual([dead.id, pending.id, recent.id]);
    const attempts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_attempt`.execute(db);
    expect(attempts.rows[0]!.n).toBe(3);
    const events = await db.selectFrom('outbox_event').select('id').orderBy('position').execute();
    expect(events.map((e) => e.id)).toEqual([dead.id, pending.id, recent.id]);
    const changes = await db.selectFrom('domain_event').select('seq').orderBy('seq').execute();
    // Left: what the relay has not read (2 old ones above the cursor) and the recent one.
    expect(changes.map((c) => c.seq)).toEqual([cursor + 1, cursor + 2, recentSeq]);

    expect(await pruneOnce(new Writer(db).alone(), WEEK, 2)).toEqual({
      deliveries: 0,
      events: 0,
      changes: 0,
    });
  });
});
