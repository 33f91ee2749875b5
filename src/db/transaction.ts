import { type Kysely, sql } from 'kysely';
import type { Db } from './connect.ts';
import type { Database } from './types.ts';

/** Anything that runs queries: the pool, or the one connection of a write. */
export type Executor = Kysely<Database>;

/** What a write sees: its connection (inside a transaction), and the two things every write must say. */
export interface WriteTx {
  readonly trx: Kysely<Database>;
  /** Records that these products changed; written to the change log in the same transaction. */
  touch(...productIds: number[]): void;
  /** Runs after a successful commit (never after a rollback). */
  afterCommit(hook: () => void): void;
}

export type CommitListener = (productIds: number[]) => void;

/**
 * The one way to write. Every write path records the products it changed in `product_change` inside the
 * transaction, so the change log is exactly as durable as the change; listeners and hooks run after commit.
 *
 * The change log rows and COMMIT travel in one round trip (a parameterless multi-statement query), so a
 * write that holds a hot row lock keeps it one round trip shorter.
 */
export class Writer {
  private readonly listeners: CommitListener[] = [];

  constructor(readonly db: Db) {}

  onCommit(listener: CommitListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async run<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const touched = new Set<number>();
    const hooks: Array<() => void> = [];
    const result = await this.db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      let value: T;
      try {
        value = await fn({
          trx: conn,
          touch: (...ids) => {
            for (const id of ids) touched.add(id);
          },
          afterCommit: (hook) => hooks.push(hook),
        });
      } catch (err) {
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw err;
      }
      try {
        await sql.raw(commitWithChangeLog([...touched])).execute(conn);
      } catch (err) {
        // A failed change-log insert leaves the transaction aborted: end it before the connection goes back.
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw err;
      }
      return value;
    });
    const changed = [...touched];
    for (const hook of hooks) runSafely(hook);
    if (changed.length > 0) for (const listener of this.listeners) runSafely(() => listener(changed));
    return result;
  }
}

/** Ids are integers we produced, never user text: inlining them keeps this one simple-protocol query. */
export function commitWithChangeLog(productIds: number[]): string {
  if (productIds.length === 0) return 'COMMIT';
  for (const id of productIds) if (!Number.isSafeInteger(id)) throw new Error(`bad product id ${id}`);
  const rows = [...productIds]
    .sort((a, b) => a - b)
    .map((id) => `(${id})`)
    .join(',');
  return `INSERT INTO product_change (product_id) VALUES ${rows}; COMMIT`;
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // A failing hook must not turn a committed write into a reported failure.
    console.error('after-commit hook failed', err);
  }
}
