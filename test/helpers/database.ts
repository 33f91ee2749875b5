import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type Db, type QueryCounter } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { Writer } from '../../src/db/transaction.ts';

export interface TestDatabase {
  url: string;
  db: Db;
  writer: Writer;
  queries: QueryCounter;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database of the test file's own; dropped (with its connections) by drop(). */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(inject('adminUrl'), name);
  const { db, queries } = createDb(url, {
    max: options.poolMax ?? 10,
    connectionTimeoutMs: 10_000,
    statementTimeoutMs: 30_000,
    onError: () => {},
  });
  await migrateToLatest(db);
  return {
    url,
    db,
    writer: new Writer(db),
    queries,
    async drop() {
      await db.destroy();
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
