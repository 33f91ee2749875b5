import { type ExecutionArgs, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { EdgeGate, useEdgeGate } from '../../src/edge/limits/edge-gate.ts';
import { operationRefusal } from '../../src/edge/limits/operation-guard.ts';
import { DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { DEFAULT_COST_BUDGETS } from '../../src/edge/settings/document-limits.ts';
import { schema } from '../../src/schema/index.ts';

type OnExecute = (payload: {
  args: ExecutionArgs;
  executeFn: (args: ExecutionArgs) => unknown;
  setExecuteFn(fn: (args: ExecutionArgs) => unknown): void;
  setResultAndStopExecution(result: unknown): void;
}) => Promise<{ onExecuteDone?: () => void } | undefined>;

/** An expensive operation (a customer's whole order history), priced as the operation guard prices it. */
function expensiveOperation(): ExecutionArgs {
  const args: ExecutionArgs = {
    schema,
    document: parse(`query { viewer { orders(first: 100) { edges { node { id lines {
      quantity product { sku } backorder { queuePosition estimatedAvailableAt } } } } } } }`),
    contextValue: { viewer: { id: 'gate-customer', role: 'customer' } },
  };
  expect(operationRefusal(args, DEFAULT_COST_BUDGETS)).toBeNull();
  return args;
}

describe('the edge gate', () => {
  it('gives back the cost in flight when the executor throws', async () => {
    const gate = new EdgeGate(DEFAULT_ABUSE_LIMITS);
    const onExecute = useEdgeGate(gate).onExecute as unknown as OnExecute;
    const args = expensiveOperation();
    // As envelop runs it: the executor, or whatever a plugin put in its place.
    let execute = (_args: ExecutionArgs): unknown => {
      throw new Error('executor failed');
    };
    await onExecute({
      args,
      executeFn: execute,
      setExecuteFn: (fn) => {
        execute = fn;
      },
      setResultAndStopExecution: () => expect.unreachable('admitted'),
    });
    expect(gate.admission.inFlight).toBeGreaterThan(DEFAULT_ABUSE_LIMITS.admission.fastLaneCost);
    await expect(Promise.resolve().then(() => execute(args))).rejects.toThrow('executor failed');
    expect(gate.admission.inFlight).toBe(0);
  });

  it('gives it back once when the operation ends normally', async () => {
    const gate = new EdgeGate(DEFAULT_ABUSE_LIMITS);
    const onExecute = useEdgeGate(gate).onExecute as unknown as OnExecute;
    const args = expensiveOperation();
    let execute = (_args: ExecutionArgs): unknown => ({ data: {} });
    const after = await onExecute({
      args,
      executeFn: execute,
      setExecuteFn: (fn) => {
        execute = fn;
      },
      setResultAndStopExecution: () => expect.unreachable('admitted'),
    });
    const cost = gate.admission.inFlight;
    expect(cost).toBeGreaterThan(0);
    await execute(args);
    after?.onExecuteDone?.();
    // Released by both the executor's end and onExecuteDone, counted off once.
    expect(gate.admission.inFlight).toBe(0);
    const next = await gate.admission.admit('next', cost);
    expect('release' in next && gate.admission.inFlight).toBe(cost);
  });
});
