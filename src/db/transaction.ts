import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { type DomainEvent, EVENT_PAYLOAD_VERSION, productsOf } from '../domain/rules/domain-events.ts';
import type { Db } from './connect.ts';
import type { Database } from './types.ts';

/** Anything that runs queries: the pool, or the one connection of a write. */
export type Executor = Kysely<Database>;

/** What a write sees: its connection (inside a transaction), and the one way to say what happened. */
export interface WriteTx {
  readonly trx: Kysely<Database>;
  /** Records what happened; written to the event log in the same transaction, at commit. */
  record(event: DomainEvent): void;
}

/**
 * A write that stands alone: bookkeeping that changes no domain state and so has nothing to record (the
 * webhook worker's claims, leases and receipts; retention's deletes). Each statement commits by itself.
 */
export interface LoneWrite {
  readonly trx: Kysely<Database>;
  readonly alone: true;
}

/** What a repository that writes takes: the transaction of a change, or a write that stands alone. */
export type Write = WriteTx | LoneWrite;

export type CommitListener = (events: readonly DomainEvent[]) => void;

/**
 * The one way to write. A caller opens the transaction and runs any number of domain operations in it;
 * they commit together or not at all. Every event they record goes into `domain_event` inside the
 * transaction, so the log is exactly as durable as the change; listeners run after commit, never after a
 * rollback.
 *
 * The event rows and COMMIT travel in one round trip (a parameterless multi-statement query), so a write
 * that holds a hot row lock keeps it one round trip shorter.
 */
export class Writer {
  constructor(
    readonly db: Db,
    private readonly listeners: CommitListener[] = [],
  ) {}

  /**
   * A writer over another handle (background work on its own, uncounted handle) whose commits reach the
   * same listeners: every commit, whoever writes it, is followed up in one place.
   */
  over(db: Db): Writer {
    return new Writer(db, this.listeners);
  }

  /**
   * For bookkeeping writes, one statement each, outside any transaction: no BEGIN and COMMIT round trips
   * on the delivery path, and no way to record an event (there is nothing to tell).
   */
  alone(): LoneWrite {
    return { trx: this.db, alone: true };
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  async run<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    const events: DomainEvent[] = [];
    const result = await this.db.connection().execute(async (conn) => {
      await sql`BEGIN`.execute(conn);
      let value: T;
      try {
        value = await fn({ trx: conn, record: (event) => events.push(event) });
      } catch (err) {
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw err;
      }
      try {
        await sql.raw(commitWithEvents(events)).execute(conn);
      } catch (err) {
        // A failed event insert leaves the transaction aborted: end it before the connection goes back.
        await sql`ROLLBACK`.execute(conn).catch(() => {});
        throw err;
      }
      return value;
    });
    if (events.length > 0) for (const listener of this.listeners) runSafely(() => listener(events));
    return result;
  }
}

/**
 * The event rows, then COMMIT, as one simple-protocol query. Payloads can hold text a caller chose (a
 * customer id), so every value goes through the driver's literal escaping. Each payload carries its shape's
 * version (`v`), checked where payloads are read back.
 */
export function commitWithEvents(events: readonly DomainEvent[]): string {
  if (events.length === 0) return 'COMMIT';
  const rows = events.map((event) => {
    const products = productsOf(event);
    for (const id of products) if (!Number.isSafeInteger(id)) throw new Error(`bad product id ${id}`);
    const ids = [...new Set(products)].sort((a, b) => a - b).join(',');
    return `(${pg.escapeLiteral(event.type)}, '{${ids}}', ${pg.escapeLiteral(JSON.stringify({ ...event, v: EVENT_PAYLOAD_VERSION }))}::jsonb)`;
  });
  return `INSERT INTO domain_event (type, product_ids, payload) VALUES ${rows.join(',')}; COMMIT`;
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // A failing listener must not turn a committed write into a reported failure.
    console.error('after-commit listener failed', err);
  }
}
