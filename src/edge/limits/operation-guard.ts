import type { ExecutionArgs, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { roleOf } from '../../schema/role-cost.ts';
import type { CostBudgets, Role } from '../settings/document-limits.ts';
import { stringsRefusal } from './input-strings.ts';
import { operationCost } from './operation-cost.ts';
import { limitRefusal } from './refusal.ts';

const WHO: Record<Role, string> = { anonymous: 'anonymous callers', customer: 'customers', staff: 'staff' };

const costs = new WeakMap<object, number>();

/** The estimated cost of the operation judged with this context (admission control weighs it). */
export function judgedCost(contextValue: unknown): number | null {
  return contextValue && typeof contextValue === 'object' ? (costs.get(contextValue) ?? null) : null;
}

/** What is refused about an operation before it runs: NUL characters, over-deep variables, cost. */
export function operationRefusal(args: ExecutionArgs, budgets: CostBudgets): GraphQLError | null {
  const strings = stringsRefusal(args.document, args.variableValues);
  if (strings) return strings;
  const role = roleOf((args.contextValue as object | undefined) ?? {});
  const cost = operationCost({
    schema: args.schema,
    document: args.document,
    variableValues: args.variableValues,
    operationName: args.operationName,
    contextValue: (args.contextValue as object | undefined) ?? {},
  });
  if (cost !== null && args.contextValue && typeof args.contextValue === 'object') {
    costs.set(args.contextValue, cost);
  }
  const budget = budgets[role];
  if (cost === null || cost <= budget) return null;
  return limitRefusal(
    'cost',
    `Query cost ${cost} is over the budget of ${budget} for ${WHO[role]}.`,
    cost,
    budget,
  );
}

/** Contexts whose operation was already judged on its way in (WebSocket): not judged twice. */
const judged = new WeakSet<object>();

export function judgeOnce(args: ExecutionArgs, budgets: CostBudgets): GraphQLError | null {
  const refusal = operationRefusal(args, budgets);
  if (args.contextValue && typeof args.contextValue === 'object') judged.add(args.contextValue);
  return refusal;
}

/**
 * Judges every operation at the moment it is executed or subscribed, with its own variables and caller,
 * so no verdict is ever reused for another request with the same document. A refusal is the only answer:
 * no resolver runs and there is no data.
 */
export function useOperationGuard(budgets: CostBudgets): Plugin {
  const guard = ({
    args,
    setResultAndStopExecution,
  }: {
    args: ExecutionArgs;
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    if (args.contextValue && judged.has(args.contextValue as object)) return;
    const refusal = operationRefusal(args, budgets);
    if (refusal) setResultAndStopExecution({ errors: [refusal] });
  };
  return { onExecute: guard, onSubscribe: guard };
}
