import { sql } from 'kysely';
import type { Executor } from '../transaction.ts';

export interface ChangeRow {
  seq: number;
  productId: number;
}

export async function latestChangeSeq(ex: Executor): Promise<number> {
  const { rows } = await sql<{ seq: number | null }>`SELECT max(seq) AS seq FROM product_change`.execute(ex);
  return rows[0]?.seq ?? 0;
}

/** Change log rows after `floor`, in sequence order. */
export async function readChangesAfter(ex: Executor, floor: number, limit: number): Promise<ChangeRow[]> {
  return ex
    .selectFrom('product_change')
    .select(['seq', 'product_id as productId'])
    .where('seq', '>', floor)
    .orderBy('seq')
    .limit(limit)
    .execute();
}
