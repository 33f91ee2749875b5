import type { Transaction } from 'kysely';
import type { Db } from './connect.ts';
import type { Database } from './types.ts';

export type Executor = Db | Transaction<Database>;

/** What a write sees: the transaction, and the two things every write must be able to say. */
export interface WriteTx {
  readonly trx: Transaction<Database>;
  /** Records that these products changed; written to the change log in the same transaction. */
  touch(...productIds: number[]): void;
  /** Runs after a successful commit (never after a rollback). */
  afterCommit(hook: () => void): void;
}

export type CommitListener = (productIds: number[]) => void;

/**
 * The one way to write. Every write path records the products it changed in `product_change` inside the
 * transaction, so the change log is exactly as durable as the change; listeners and hooks run after commit.
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
    const result = await this.db.transaction().execute(async (trx) => {
      const tx: WriteTx = {
        trx,
        touch: (...ids) => {
          for (const id of ids) touched.add(id);
        },
        afterCommit: (hook) => hooks.push(hook),
      };
      const value = await fn(tx);
      if (touched.size > 0) {
        await trx
          .insertInto('product_change')
          .values([...touched].sort((a, b) => a - b).map((product_id) => ({ product_id })))
          .execute();
      }
      return value;
    });
    const changed = [...touched];
    for (const hook of hooks) runSafely(hook);
    if (changed.length > 0) for (const listener of this.listeners) runSafely(() => listener(changed));
    return result;
  }
}

function runSafely(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // A failing hook must not turn a committed write into a reported failure.
    console.error('after-commit hook failed', err);
  }
}
