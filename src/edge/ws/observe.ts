import { type ExecutionArgs, getOperationAST } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { isAsyncIterable } from 'graphql-yoga';
import { withLogFields } from '../../base/log.ts';
import { operationForLog } from '../ops/known-operations.ts';
import type { Metrics } from '../ops/metrics.ts';
import { logOutcome, Outcome } from '../ops/outcome.ts';
import { requestIdFrom } from '../ops/request-id.ts';

type Hooks = Pick<
  ServerOptions,
  'onSubscribe' | 'execute' | 'subscribe' | 'onNext' | 'onError' | 'onOperation' | 'onComplete' | 'onClose'
>;
type Viewer = { id: string; role: string } | null | undefined;

/**
 * Wraps a WebSocket server's operation hooks to give each operation a request id (on every line logged on
 * its behalf), a line when a subscription starts and one when any operation ends, and its metrics.
 */
export function observeWsOperations<T extends Partial<Hooks>>(
  inner: T,
  metrics: Metrics | undefined,
): T & Hooks {
  /** Operations of each socket by id, until they end. */
  const open = new WeakMap<object, Map<string, Outcome>>();
  const byArgs = new WeakMap<object, Outcome>();
  /** Operations past onSubscribe: graphql-ws completes them (onComplete); refused ones end at onError. */
  const running = new WeakSet<Outcome>();
  const of = (ctx: object) => {
    let ops = open.get(ctx);
    if (!ops) {
      ops = new Map();
      open.set(ctx, ops);
    }
    return ops;
  };
  const finish = (ctx: object, id: string) => {
    const ops = open.get(ctx);
    const outcome = ops?.get(id);
    if (!outcome) return;
    ops!.delete(id);
    if (outcome.stream) metrics?.subscriptions.dec({ transport: 'ws' });
    logOutcome('ws operation', outcome.finish(metrics));
  };
  return {
    ...inner,
    onSubscribe: async (ctx, id, payload) => {
      const outcome = new Outcome(requestIdFrom(undefined), 'ws');
      outcome.graphql = true;
      outcome.operation = operationForLog(payload.operationName);
      of(ctx).set(id, outcome);
      const prepared = await withLogFields({ requestId: outcome.requestId }, () =>
        inner.onSubscribe?.(ctx, id, payload),
      );
      if (prepared && !Array.isArray(prepared)) {
        const args = prepared as ExecutionArgs;
        byArgs.set(args, outcome);
        running.add(outcome);
        outcome.operation =
          operationForLog(getOperationAST(args.document, args.operationName)?.name?.value) ??
          outcome.operation;
        outcome.viewer((args.contextValue as { viewer?: Viewer } | undefined)?.viewer);
      }
      return prepared;
    },
    execute: (args) => {
      const outcome = byArgs.get(args);
      const run = () => (inner.execute ? inner.execute(args) : undefined);
      return (outcome ? withLogFields({ requestId: outcome.requestId }, run) : run()) as ReturnType<
        NonNullable<Hooks['execute']>
      >;
    },
    onOperation: async (ctx, id, payload, args, result) => {
      const outcome = open.get(ctx)?.get(id);
      if (outcome && isAsyncIterable(result)) {
        outcome.stream = true;
        metrics?.subscriptions.inc({ transport: 'ws' });
        logOutcome('ws subscription started', {
          requestId: outcome.requestId,
          operation: outcome.operation,
          role: outcome.role,
          subject: outcome.subject,
        });
      }
      return inner.onOperation?.(ctx, id, payload, args, result);
    },
    onNext: async (ctx, id, payload, args, result) => {
      open.get(ctx)?.get(id)?.errorsOf(result.errors);
      return inner.onNext?.(ctx, id, payload, args, result);
    },
    onError: async (ctx, id, payload, errors) => {
      const outcome = open.get(ctx)?.get(id);
      outcome?.errorsOf(errors);
      const answer = await inner.onError?.(ctx, id, payload, errors);
      // Refused before it ran (a limit, a bad document): no completion follows.
      if (outcome && !running.has(outcome)) finish(ctx, id);
      return answer;
    },
    onComplete: async (ctx, id, payload) => {
      await inner.onComplete?.(ctx, id, payload);
      finish(ctx, id);
    },
    onClose: async (ctx, code, reason) => {
      await inner.onClose?.(ctx, code, reason);
      for (const id of [...(open.get(ctx)?.keys() ?? [])]) finish(ctx, id);
    },
  };
}
