import { type SelectQueryBuilder, sql } from 'kysely';
import type { PageWindow } from '../records.ts';
import type { Database } from '../types.ts';

/**
 * Keyset paging on a unique, increasing numeric column. `newestFirst` lists descending: "after" a cursor
 * then means a smaller key. `inverted` (paging backwards with `last`) reads the other way round.
 */
export function keysetPage(page: PageWindow<number>, newestFirst: boolean, column = 'id') {
  return <TB extends keyof Database, O>(
    q: SelectQueryBuilder<Database, TB, O>,
  ): SelectQueryBuilder<Database, TB, O> => {
    const key = sql.ref<number>(column);
    let r = q;
    if (page.after !== undefined) r = r.where(key, newestFirst ? '<' : '>', page.after);
    if (page.before !== undefined) r = r.where(key, newestFirst ? '>' : '<', page.before);
    const descending = newestFirst !== page.inverted;
    return r.orderBy(key, descending ? 'desc' : 'asc').limit(page.limit);
  };
}
