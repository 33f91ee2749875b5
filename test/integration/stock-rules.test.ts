import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queued } from '../../src/domain/rules/stock-rules.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

async function predicateOf(index: string): Promise<string | null> {
  const { rows } = await sql<{ predicate: string | null }>`
    SELECT pg_get_expr(i.indpred, i.indrelid) AS predicate
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ${index}
  `.execute(t.db);
  return rows[0]?.predicate ?? null;
}

describe('the queue predicate', () => {
  it('is the one the partial indexes on the queue were declared with, as the database reads it', async () => {
    // The rules module's fragment, as Postgres normalises it, next to the migrations' frozen predicates.
    await sql`CREATE INDEX rules_probe ON backorder (id) WHERE ${queued()}`.execute(t.db);
    const fromRules = await predicateOf('rules_probe');
    expect(fromRules).toMatch(/WAITING.*PARTIALLY_ALLOCATED/);
    expect(await predicateOf('backorder_queue')).toBe(fromRules);
    expect(await predicateOf('backorder_queued_by_order')).toBe(fromRules);
  });
});
