import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ClaimLimits, claimDue, markDelivered } from '../../src/db/repos/webhooks.ts';
import { Writer } from '../../src/db/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { queueBacklog } from '../helpers/webhooks.ts';

// The claim, statement by statement: which deliveries one round takes, in what order, and what it locks.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
beforeEach(async () => {
  await sql`TRUNCATE webhook_endpoint, outbox_event CASCADE`.execute(database.db);
});
afterAll(() => database?.drop());

const LIMITS: ClaimLimits = {
  limit: 16,
  failingLimit: 8,
  endpointConcurrency: 4,
  failingEndpointConcurrency: 1,
  leaseMs: 60_000,
};

async function endpoint(failing = false): Promise<number> {
  const { id } = await database.db
    .insertInto('webhook_endpoint')
    .values({
      url: 'https://erp.example/hook',
      description: null,
      event_types: ['backorder.created'],
      secret: 'whsec_x',
      failing_since: failing ? new Date() : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

const claim = (limits: Partial<ClaimLimits> = {}) =>
  claimDue(new Writer(database.db).alone(), { ...LIMITS, ...limits });
const perEndpoint = (claimed: { endpointId: number }[]) => {
  const counts = new Map<number, number>();
  for (const c of claimed) counts.set(c.endpointId, (counts.get(c.endpointId) ?? 0) + 1);
  return Object.fromEntries(counts);
};

describe('claiming due deliveries', () => {
  it('takes one per endpoint first, the oldest event first among equals, then the next turn', async () => {
    const [a, b, c] = [await endpoint(), await endpoint(), await endpoint()];
    await queueBacklog(database.db, [a], 'backorder:a', 3, 1);
    await queueBacklog(database.db, [b], 'backorder:b', 3, 1);
    await queueBacklog(database.db, [c], 'backorder:c', 1, 1);
    // Turn 1: a, b, c; then a's second (its event is older than b's second).
    expect(perEndpoint(await claim({ limit: 4 }))).toEqual({ [a]: 2, [b]: 1, [c]: 1 });
    // a has two in flight, b one: b's second goes first (turn 2), then a's third and b's third (turn 3).
    expect(perEndpoint(await claim({ limit: 1 }))).toEqual({ [b]: 1 });
    expect((await claim()).map((d) => d.endpointId)).toEqual([a, b]);
  });

  it('counts only what can be sent: deliveries waiting behind one being retried are no one’s turn', async () => {
    const [retrying, other] = [await endpoint(true), await endpoint()];
    await queueBacklog(database.db, [retrying], 'backorder:r', 1, 5);
    await sql`UPDATE webhook_delivery SET attempts = 1, next_attempt_at = now() + interval '1 hour'
      WHERE endpoint_id = ${retrying} AND event_position = (
        SELECT min(event_position) FROM webhook_delivery WHERE endpoint_id = ${retrying})`.execute(
      database.db,
    );
    await queueBacklog(database.db, [other], 'backorder:o', 1, 1);
    expect(perEndpoint(await claim({ limit: 1 }))).toEqual({ [other]: 1 });
    expect(await claim()).toEqual([]);
  });

  it('gives an endpoint whose last attempt failed one at a time, and failing ones together no more than the failing limit', async () => {
    const failing = [await endpoint(true), await endpoint(true), await endpoint(true), await endpoint(true)];
    const healthy = [await endpoint(), await endpoint()];
    // The failing endpoints' events are the oldest: they would go first if nothing held them back.
    await queueBacklog(database.db, failing, 'backorder:f', 3, 1);
    await queueBacklog(database.db, healthy, 'backorder:h', 6, 1);
    const first = await claim({ failingLimit: 2 });
    expect(first.filter((c) => c.failing)).toHaveLength(2);
    expect(new Set(first.filter((c) => c.failing).map((c) => c.endpointId)).size).toBe(2);
    // What the failing ones may not take goes to the others: 4 each, their cap.
    expect(perEndpoint(first.filter((c) => !c.failing))).toEqual({ [healthy[0]!]: 4, [healthy[1]!]: 4 });
    // The next round: only the two failing endpoints with nothing in flight, one each.
    const second = await claim({ failingLimit: 8 });
    expect(second.filter((c) => c.failing)).toHaveLength(2);
    expect(second.every((c) => !first.some((f) => f.failing && f.endpointId === c.endpointId))).toBe(true);
    // A failing limit of 0 leaves failing endpoints out entirely.
    await sql`UPDATE webhook_delivery SET leased_until = NULL`.execute(database.db);
    expect((await claim({ failingLimit: 0 })).some((c) => c.failing)).toBe(false);
  });

  it('counts what other instances have in flight, and skips what another worker is claiming', async () => {
    const a = await endpoint();
    await queueBacklog(database.db, [a], 'backorder:a', 4, 1);
    const ids = (
      await database.db.selectFrom('webhook_delivery').select('id').orderBy('event_position').execute()
    ).map((d) => d.id);
    // The first is in flight elsewhere; another worker is claiming the second right now.
    await sql`UPDATE webhook_delivery SET leased_until = now() + interval '1 minute' WHERE id = ${ids[0]!}`.execute(
      database.db,
    );
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM webhook_delivery WHERE id = $1 FOR UPDATE', [ids[1]]);
      // Cap 3: one in flight leaves turns 2 and 3; turn 2 is locked, so only the third is taken.
      const claimed = await claim({ endpointConcurrency: 3 });
      expect(claimed.map((c) => c.id)).toEqual([ids[2]]);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });

  it('sends a subject in order: the next event only once the one before it is settled', async () => {
    const a = await endpoint();
    await queueBacklog(database.db, [a], 'backorder:s', 1, 3);
    for (let sequence = 1; sequence <= 3; sequence++) {
      const claimed = await claim();
      expect(claimed.map((c) => JSON.parse(c.body).sequence)).toEqual([sequence]);
      expect(await claim()).toEqual([]);
      await markDelivered(new Writer(database.db).alone(), claimed[0]!, 204);
    }
  });

  it('locks the deliveries it claims and nothing else', async () => {
    const [a, b] = [await endpoint(), await endpoint()];
    await queueBacklog(database.db, [a, b], 'backorder:l', 2, 1);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    const lockable = async (query: string, params: unknown[]) => {
      await other.query('BEGIN');
      try {
        await other.query(`${query} FOR UPDATE NOWAIT`, params);
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === '55P03') return false;
        throw err;
      } finally {
        await other.query('ROLLBACK');
      }
    };
    try {
      await new Writer(database.db).run(async (tx) => {
        const { trx } = tx;
        const claimed = await claimDue(tx, { ...LIMITS, limit: 1 });
        expect(claimed).toHaveLength(1);
        const { id, endpointId } = claimed[0]!;
        const row = 'SELECT 1 FROM webhook_delivery WHERE id = $1';
        expect(await lockable(row, [id])).toBe(false);
        const rest = await trx.selectFrom('webhook_delivery').select('id').where('id', '!=', id).execute();
        expect(rest).toHaveLength(3);
        for (const d of rest) expect(await lockable(row, [d.id])).toBe(true);
        for (const e of [a, b]) {
          expect(await lockable('SELECT 1 FROM webhook_endpoint WHERE id = $1', [e])).toBe(true);
        }
        expect(await lockable('SELECT 1 FROM outbox_event', [])).toBe(true);
        expect(endpointId).toBe(a);
      });
    } finally {
      await other.end();
    }
  });
});
