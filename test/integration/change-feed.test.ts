import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeFeed, HOLE_TTL_MS } from '../../src/live/change-feed.ts';
import { LiveUpdates, POLL_MS } from '../../src/live/live-updates.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

let t: TestDatabase;
let admin: pg.Client;
let nextProduct = 1_000;

beforeAll(async () => {
  t = await createTestDatabase();
  admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await t?.drop();
});

const INSERT_EVENT = `INSERT INTO domain_event (type, product_ids, payload) VALUES ('StockAdjusted', ARRAY[$1::bigint], '{}')`;

/** A change committed by someone else: a row in the change log and no wake-up. */
async function commitChange(productId: number): Promise<void> {
  await admin.query(INSERT_EVENT, [productId]);
}

/** A change whose transaction draws its sequence number now and commits (or rolls back) later. */
async function openChange(productId: number) {
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(INSERT_EVENT, [productId]);
  const end = async (how: 'COMMIT' | 'ROLLBACK') => {
    await client.query(how);
    await client.end();
  };
  return { commit: () => end('COMMIT'), rollback: () => end('ROLLBACK') };
}

function feedWithClock() {
  const clock = new FakeClock();
  const reported: number[][] = [];
  const feed = new ChangeFeed(
    t.db,
    (ids) => reported.push([...ids].sort((a, b) => a - b)),
    () => clock.now(),
  );
  return { clock, reported, feed };
}

describe('change feed', () => {
  it('reports each committed change once, in order, across reads', async () => {
    const { feed, reported } = feedWithClock();
    await feed.start();
    const [a, b] = [nextProduct++, nextProduct++];
    await commitChange(a);
    await feed.poke();
    await commitChange(b);
    await commitChange(a);
    await feed.poke();
    await feed.poke();
    expect(reported).toEqual([[a], [a, b]]);
  });

  it('reports a change that commits after a newer one (a hole) when it fills in', async () => {
    const { feed, reported } = feedWithClock();
    await feed.start();
    const [slow, fast] = [nextProduct++, nextProduct++];
    const pendingWrite = await openChange(slow);
    await commitChange(fast);
    await feed.poke();
    expect(reported).toEqual([[fast]]);
    expect(feed.openHoles).toBe(1);
    const before = feed.position;
    await pendingWrite.commit();
    await feed.poke();
    expect(reported).toEqual([[fast], [slow]]);
    expect(feed.openHoles).toBe(0);
    expect(feed.position).toBeGreaterThan(before);
  });

  it('gives up on a hole only after its timeout, as a rolled-back write', async () => {
    const { feed, reported, clock } = feedWithClock();
    await feed.start();
    const [rolledBack, later] = [nextProduct++, nextProduct++];
    const write = await openChange(rolledBack);
    await commitChange(later);
    await write.rollback();
    await feed.poke();
    const stuckAt = feed.position;
    await clock.advance(HOLE_TTL_MS - 1);
    await feed.poke();
    expect(feed.position).toBe(stuckAt);
    expect(feed.openHoles).toBe(1);
    await clock.advance(1);
    await feed.poke();
    expect(feed.position).toBeGreaterThan(stuckAt);
    expect(feed.openHoles).toBe(0);
    expect(reported).toEqual([[later]]);
  });
});

describe('live updates without wake-ups', () => {
  function liveWithClock() {
    const clock = new FakeClock();
    const logged: string[] = [];
    const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m) };
    const live = new LiveUpdates(
      {
        db: t.db,
        url: t.url,
        pool: { query: (text: string) => sql.raw(text).execute(t.db) },
        mergeWindowMs: 50,
        clock,
      },
      log,
    );
    return { clock, live, logged };
  }

  /** Events a watcher receives after its first message. */
  function events(live: LiveUpdates, productId: number): { count: number } {
    const seen = { count: -1 };
    void (async () => {
      for await (const _ of live.hub.watch(productId)) seen.count++;
    })();
    return seen;
  }

  /** Steps the fake clock by `ms` while real database reads complete, until `done` holds. */
  async function stepUntil(clock: FakeClock, ms: number, done: () => boolean): Promise<void> {
    await expect
      .poll(
        async () => {
          await clock.advance(ms);
          return done();
        },
        { timeout: 5_000, interval: 20 },
      )
      .toBe(true);
  }

  it('reads a change committed elsewhere at the next poll', async () => {
    const { clock, live } = liveWithClock();
    await live.start();
    try {
      const product = nextProduct++;
      const seen = events(live, product);
      await expect.poll(() => seen.count).toBe(0);
      // Stop wake-ups from reaching this instance: only the poll is left.
      await live.wakeup.stop();
      await commitChange(product);
      await clock.advance(POLL_MS - 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seen.count).toBe(0);
      await stepUntil(clock, 1, () => seen.count === 1);
    } finally {
      await live.stop();
    }
  });

  it('reconnects a terminated listener and reads what was committed while it was down', async () => {
    const { clock, live, logged } = liveWithClock();
    await live.start();
    try {
      const product = nextProduct++;
      const seen = events(live, product);
      await expect.poll(() => seen.count).toBe(0);
      const pid = live.wakeup.listenerPid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect.poll(() => live.wakeup.listenerPid).toBeUndefined();
      await commitChange(product);
      // The first reconnect is due after 100 ms, well before the next poll.
      await stepUntil(clock, 0, () => true);
      await clock.advance(100);
      await expect.poll(() => live.wakeup.listenerPid).toBeTypeOf('number');
      expect(live.wakeup.listenerPid).not.toBe(pid);
      await stepUntil(clock, 0, () => seen.count === 1);
      expect(logged.filter((l) => l.includes('change listener'))).toHaveLength(2);
    } finally {
      await live.stop();
    }
  });
});
