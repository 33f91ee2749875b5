import type { Role } from '../../domain/types.ts';

/** The document limits and cost budgets with their defaults: plain data, so configuration can load them. */

export interface DocumentLimits {
  depth: number;
  aliases: number;
  tokens: number;
  directives: number;
}

/** The contract's bounds: they admit every contract operation sent whole and graphql-js's introspection query. */
export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = {
  depth: 12,
  aliases: 30,
  tokens: 1000,
  directives: 50,
};

/**
 * Reading and validating a document recurse once per level of nesting, which can be half its tokens:
 * 1,000 levels are read and validated with room to spare; about 2,500 exhaust Node's default stack.
 */
export const MAX_TOKENS_SETTING = 2000;

export type { Role };
export type CostBudgets = Record<Role, number>;

/**
 * Each role's default admits every contract operation that role may send at its largest inputs (pages of
 * 100, a receipt of 1,000,000 units with its allocations); the README lists what each costs.
 */
export const DEFAULT_COST_BUDGETS: CostBudgets = { anonymous: 3_000, customer: 100_000, staff: 5_100_000 };
