import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { type GraphQLField, getNullableType, isListType } from 'graphql';
import { DEFAULT_PAGE } from './pagination.ts';
import { BOUNDS } from './validate.ts';

/**
 * What a field costs before the operation runs: 1 for the field itself, plus its selection times the number
 * of items it can hold. The figures are upper bounds where the schema has a bound, and documented estimates
 * where it has none; the README lists them.
 */

/** Open inbound shipments of one product: nothing caps them, and a product rarely has more than a few. */
export const INBOUND_ESTIMATE = 10;

/** A list the schema does not know how to bound yet is priced like a full page. */
const UNBOUNDED_LIST = BOUNDS.pageSize;

export const listOf = (items: number): FieldComplexityValue => ({ field: 1, multiplier: items });

const clamp = (value: number, max: number) => Math.min(Math.max(Math.trunc(value), 0), max);

/**
 * A connection multiplies its whole selection by its page size. Outside 1..100 the resolver refuses the
 * page itself; the cost of such a request is priced at the largest page that could run.
 */
function pageSize(args: Record<string, unknown>): number {
  const size = args.first ?? args.last ?? DEFAULT_PAGE;
  return typeof size === 'number' ? clamp(size, BOUNDS.pageSize) : DEFAULT_PAGE;
}

/** The default for every field without a cost of its own. */
export function defaultFieldCost<Ctx>(
  args: Record<string, unknown>,
  _ctx: Ctx,
  field: GraphQLField<unknown, Ctx>,
): FieldComplexityValue {
  if (field.args.some((arg) => arg.name === 'first')) return listOf(pageSize(args));
  if (!isListType(getNullableType(field.type))) return 1;
  // A connection's edges are already counted by its page size.
  if (field.name === 'edges') return listOf(1);
  return listOf(UNBOUNDED_LIST);
}

/**
 * Lists whose length follows from the operation's input rather than from an argument of their own: what a
 * receipt or an adjustment hands to the queue is at most the units it moves. The units are learnt while the
 * operation is measured (the mutation field is seen before its selection), so a measurement runs twice when
 * an operation moves units: once to learn them, once to price the lists with them.
 */
interface Walk {
  units: number;
  seen: number;
}

const walks = new WeakMap<object, Walk>();

export function measureWithUnits<T>(ctx: object, measure: () => T): T {
  const walk: Walk = { units: 0, seen: 0 };
  walks.set(ctx, walk);
  try {
    const first = measure();
    if (walk.seen === 0) return first;
    walk.units = walk.seen;
    return measure();
  } finally {
    walks.delete(ctx);
  }
}

/** The cost of a mutation that moves units (1); remembers the largest such move of the operation. */
export function movesUnits(ctx: object, units: number, bound: number): FieldComplexityValue {
  const walk = walks.get(ctx);
  if (walk) walk.seen = Math.max(walk.seen, clamp(Math.abs(units), bound));
  return 1;
}

/** The allocations a receipt or an adjustment returns: at most one per unit it moved. */
export const allocationsCost = (_args: unknown, ctx: object): FieldComplexityValue =>
  listOf(walks.get(ctx)?.units ?? 0);
