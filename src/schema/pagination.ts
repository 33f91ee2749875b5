import type { PageWindow } from '../domain/rules/records.ts';
import { BOUNDS, badInput, intInRange } from './validate.ts';

export interface ConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

/** Cursors are opaque: base64url of the row's sort key. */
function encodeCursor(key: string | number): string {
  return Buffer.from(`c:${key}`).toString('base64url');
}

function decodeCursor(cursor: string, field: string): string {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!raw.startsWith('c:')) throw badInput(`${field} is not a cursor from this API`, field);
  return raw.slice(2);
}

const asNumber = (raw: string, field: string): number => {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw badInput(`${field} is not a cursor from this API`, field);
  return n;
};
const asText = (raw: string): string => raw;

/** The page size when neither first nor last is given. */
export const DEFAULT_PAGE = 20;

/**
 * A keyset-paged connection. `first`/`last` must be 1..100: outside is an error, never a silent clamp.
 * Fetches one row more than asked to learn whether another page exists.
 */
async function paginate<T, K extends string | number>(
  args: ConnectionArgs,
  key: (row: T) => K,
  parse: (raw: string, field: string) => K,
  fetch: (page: PageWindow<K>) => Promise<T[]>,
): Promise<Page<T>> {
  if (args.first != null) intInRange('first', args.first, 1, BOUNDS.pageSize);
  if (args.last != null) intInRange('last', args.last, 1, BOUNDS.pageSize);
  if (args.first != null && args.last != null) throw badInput('Give first or last, not both', 'first');
  const inverted = args.last != null;
  const size = args.first ?? args.last ?? DEFAULT_PAGE;
  const window: PageWindow<K> = { limit: size + 1, inverted };
  if (args.after != null) window.after = parse(decodeCursor(args.after, 'after'), 'after');
  if (args.before != null) window.before = parse(decodeCursor(args.before, 'before'), 'before');
  const rows = await fetch(window);
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (inverted) page.reverse();
  const edges = page.map((node) => ({ cursor: encodeCursor(key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: inverted ? args.before != null : more,
      hasPreviousPage: inverted ? more : args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

export function pageByNumber<T>(
  args: ConnectionArgs,
  fetch: (page: PageWindow<number>) => Promise<T[]>,
  key: (row: T) => number,
): Promise<Page<T>> {
  return paginate(args, key, asNumber, fetch);
}

export function pageByText<T>(
  args: ConnectionArgs,
  fetch: (page: PageWindow<string>) => Promise<T[]>,
  key: (row: T) => string,
): Promise<Page<T>> {
  return paginate(args, key, asText, fetch);
}
