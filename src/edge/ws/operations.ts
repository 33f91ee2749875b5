import {
  type ExecutionArgs,
  type ExecutionResult,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
} from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import { isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import { log } from '../../base/log.ts';
import { boundErrors } from '../limits/echo.ts';
import type { EdgeGate } from '../limits/edge-gate.ts';
import { judgeOnce } from '../limits/operation-guard.ts';
import { busyRefusal } from '../limits/refusal.ts';
import type { CostBudgets } from '../settings/document-limits.ts';

type Result = ExecutionResult | AsyncIterable<ExecutionResult>;
type Run = (args: ExecutionArgs) => Result | Promise<Result>;

/** What each operation carries from onSubscribe to its execution. */
interface Prepared {
  execute: Run;
  /** A subscription is started while it is being judged, so that its refusal is an `error` message. */
  stream?: AsyncIterable<ExecutionResult>;
  /** Gives back the operation's admission once it is answered. */
  release?: () => void;
}

/** The per-socket cap and the rate limit and admission every operation passes. */
export interface SocketLimits {
  subscriptionsPerSocket: number;
  gate: EdgeGate;
}

/** Errors the service raised on purpose pass as they are; anything else is a fault, logged and masked. */
function asOperationError(err: unknown): GraphQLError {
  if (err instanceof GraphQLError) return err;
  log.error('internal error in a WebSocket operation', err);
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

/** As the client sees them: bounded messages, without the HTTP hints only the HTTP answer uses. */
function formatted(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return boundErrors(errors).map((error) => {
    const { http: _http, ...extensions } = (error.extensions ?? {}) as Record<string, unknown>;
    const json: GraphQLFormattedError =
      typeof error.toJSON === 'function' ? error.toJSON() : { ...(error as GraphQLFormattedError) };
    return Object.keys(extensions).length > 0 ? { ...json, extensions } : { ...json, extensions: undefined };
  });
}

/**
 * WebSocket operations go through the same envelop as HTTP (plugins, limits, context, masking). Whatever
 * goes wrong with one operation (a document over a limit or unreadable, a cost over the budget, a refused
 * subscription, a fault) ends that operation with an `error` message; the socket and its other operations
 * go on. Only a fault outside any operation closes the socket (4500).
 */
export function wsOperations(
  // biome-ignore lint/suspicious/noExplicitAny: any server and user context; only getEnveloped is used.
  yoga: Pick<YogaServerInstance<any, any>, 'getEnveloped'>,
  budgets: CostBudgets,
  limits?: SocketLimits,
): Pick<ServerOptions, 'onSubscribe' | 'execute' | 'subscribe' | 'onNext' | 'onError'> {
  return {
    onSubscribe: async (ctx, _id, payload) => {
      try {
        const enveloped = yoga.getEnveloped({
          ...ctx,
          connectionParams: ctx.connectionParams ?? {},
          params: payload,
        });
        const document = enveloped.parse(payload.query);
        const invalid = enveloped.validate(enveloped.schema, document);
        if (invalid.length > 0) return invalid;
        const args: ExecutionArgs = {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
        };
        const refusal = judgeOnce(args, budgets);
        if (refusal) return [refusal];
        const prepared: Prepared = { execute: enveloped.execute as Run };
        if (limits) {
          // This operation is already among the socket's operations.
          if (Object.keys(ctx.subscriptions).length > limits.subscriptionsPerSocket) {
            const cap = limits.subscriptionsPerSocket;
            return [
              busyRefusal(
                'RATE_LIMITED',
                'subscriptionsPerSocket',
                `At most ${cap} operations open at once per socket.`,
                1,
              ),
            ];
          }
          const ticket = await limits.gate.enter(args);
          if (!('release' in ticket)) return [ticket];
          prepared.release = ticket.release;
        }
        if (getOperationAST(document, payload.operationName)?.operation === 'subscription') {
          const started = await (enveloped.subscribe as Run)(args);
          if (!isAsyncIterable(started)) {
            if (started.errors?.length && !started.data) return started.errors;
            prepared.stream = (async function* () {
              yield started;
            })();
          } else {
            prepared.stream = started;
          }
        }
        return { ...args, rootValue: prepared };
      } catch (err) {
        return [asOperationError(err)];
      }
    },
    execute: async (args) => {
      const prepared = args.rootValue as Prepared;
      try {
        return await prepared.execute(args);
      } catch (err) {
        return { errors: [asOperationError(err)] };
      } finally {
        prepared.release?.();
      }
    },
    subscribe: (args) => (args.rootValue as Prepared).stream!,
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors?.length ? { ...result, errors: formatted(result.errors) } : undefined,
    onError: (_ctx, _id, _payload, errors) => formatted(errors),
  };
}
