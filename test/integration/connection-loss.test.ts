import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 4 });
});
afterAll(() => t?.drop());

describe('a database connection lost in the middle of a write', () => {
  it('fails that write and leaves the service running and usable', async () => {
    const admin = new pg.Client({ connectionString: t.url });
    await admin.connect();
    try {
      const write = t.writer.run(async (tx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx.trx);
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        // The connection is gone while this write still holds it, between two statements.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`SELECT 1`.execute(tx.trx);
      });
      await expect(write).rejects.toThrow();
      const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(t.db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
    }
  });
});
