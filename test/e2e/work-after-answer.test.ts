import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

/**
 * When a non-null root field fails, graphql answers at once while its sibling fields' reads go on. The
 * answer must wait for the reads already under way, and none may start after it is decided: otherwise a
 * client looping on such a document leaves work queued in the pool faster than it runs.
 */
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
  await sql`WITH p AS (
      INSERT INTO product (sku, name) SELECT 'LATE-' || lpad(g::text, 3, '0'), 'Late ' || g
      FROM generate_series(1, 30) g RETURNING id
    )
    INSERT INTO stock (product_id) SELECT id FROM p`.execute(t.database.db);
});
afterAll(() => t?.stop());

const FAILING_SIBLING = `{
  a: products(first: 30) { edges { node { id sku availability { status quantityAvailable queueLength nextRestockAt } } } }
  b: products(first: 1, after: "x") { edges { node { id } } }
}`;

function post(query: string): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }> {
  return fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('work that outlives its answer', () => {
  it('the answer waits for the reads under way, and no read starts after it', async () => {
    // The sibling's first read (the product list) is held under way when b fails; its next reads (stock)
    // would wait on the second lock, where they can be seen.
    const products = new pg.Client({ connectionString: t.database.url });
    const stock = new pg.Client({ connectionString: t.database.url });
    await Promise.all([products.connect(), stock.connect()]);
    try {
      await stock.query('BEGIN');
      await stock.query('LOCK TABLE stock IN ACCESS EXCLUSIVE MODE');
      await products.query('BEGIN');
      await products.query('LOCK TABLE product IN ACCESS EXCLUSIVE MODE');
      let answered = false;
      const answer = post(FAILING_SIBLING).then((reply) => {
        answered = true;
        return reply;
      });
      await sleep(400);
      expect(answered).toBe(false);
      await products.query('COMMIT');
      const reply = await answer;
      expect(reply.status).toBe(200);
      expect(reply.body.data ?? null).toBeNull();
      expect(JSON.stringify(reply.body.errors)).toContain('cursor');
      await sleep(300);
      const waiting = await stock.query(
        `SELECT query FROM pg_stat_activity
         WHERE datname = current_database() AND application_name = 'backorder-api' AND wait_event_type = 'Lock'`,
      );
      expect(waiting.rows).toEqual([]);
    } finally {
      await Promise.all([products.end(), stock.end()]);
    }
  });

  it('a failing sibling answers only its own error, never one of a read refused afterwards', async () => {
    for (let i = 0; i < 5; i++) {
      const reply = await post(FAILING_SIBLING);
      expect(reply.body.errors).toHaveLength(1);
    }
  });

  it('the same document without the failing field still answers in full', async () => {
    const reply = await post(`{ ${FAILING_SIBLING.split('\n')[1]} }`);
    expect(reply.body.errors).toBeUndefined();
    expect(JSON.stringify(reply.body.data)).toContain('LATE-030');
  });
});
