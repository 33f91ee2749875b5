import type { Writer } from '../db/transaction.ts';
import type { Readers } from '../domain/readers.ts';
import type { Actor } from '../domain/types.ts';

/** What every resolver gets: who is asking, fresh batched readers, and the one way to write. */
export interface Context {
  viewer: Actor | null;
  readers: Readers;
  writer: Writer;
}
