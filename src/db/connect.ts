import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './types.ts';

export type Db = Kysely<Database>;
/** The instance's connection pool, for the parts that open their own handles on it (background work, wake-ups). */
export type Pool = pg.Pool;

export interface PoolOptions {
  max: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs?: number;
  /** Called for pool-level errors (a dropped idle connection); the process must not crash on them. */
  onError: (err: Error) => void;
}

/** Counts statements sent, so tests and benchmarks can state the cost of a request in queries. */
export class QueryCounter {
  count = 0;
}

const INT8_ARRAY = 1016;

// int8 (ids, counts, and arrays of them) as JS numbers: ids stay far below 2^53, and numbers keep every layer simple.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    if (oid === INT8_ARRAY) {
      const parseArray = pg.types.getTypeParser(INT8_ARRAY as never) as (value: string) => string[];
      return (value: string) => parseArray(value).map(Number);
    }
    return pg.types.getTypeParser(oid, format);
  },
};

export function createDb(
  url: string,
  options: PoolOptions,
): { db: Db; pool: pg.Pool; queries: QueryCounter } {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs ?? 30_000,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
    application_name: 'backorder-api',
    types,
  });
  pool.on('error', options.onError);
  // The pool listens for errors only on idle clients. A checked-out client whose backend is terminated
  // (restart, failover) emits 'error' too; without a listener that would end the process, not the request.
  pool.on('connect', (client) => client.on('error', options.onError));
  const queries = new QueryCounter();
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: () => {
      queries.count++;
    },
  });
  return { db, pool, queries };
}

/**
 * Another handle on the same pool whose statements are not counted: for work that runs after commit
 * (relaying events, delivering webhooks), so that what a request costs stays countable on its own.
 */
export function backgroundDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
