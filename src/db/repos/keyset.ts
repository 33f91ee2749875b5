import { type SelectQueryBuilder, sql } from 'kysely';
import type { PageWindow } from '../../domain/rules/records.ts';

/**
 * Keyset paging on a unique, increasing numeric column. `newestFirst` lists descending: "after" a cursor
 * then means a smaller key. `inverted` (paging backwards with `last`) reads the other way round.
 */
export function keysetPage(page: PageWindow<number>, newestFirst: boolean, column = 'id') {
  return <DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> => {
    const key = sql.ref<number>(column);
    let r = q;
    if (page.after !== undefined) r = r.where(key, newestFirst ? '<' : '>', page.after);
    if (page.before !== undefined) r = r.where(key, newestFirst ? '>' : '<', page.before);
    const descending = newestFirst !== page.inverted;
    return r.orderBy(key, descending ? 'desc' : 'asc').limit(page.limit);
  };
}
