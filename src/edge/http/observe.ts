import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DocumentNode, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { withLogFields } from '../../base/log.ts';
import { operationForLog } from '../ops/known-operations.ts';
import type { Metrics } from '../ops/metrics.ts';
import { logOutcome, Outcome } from '../ops/outcome.ts';
import { refusalOfStatus } from '../ops/refusals.ts';
import { asksForEventStream } from './event-stream.ts';

const outcomes = new WeakMap<IncomingMessage, Outcome>();

/** What is being gathered about a request under way. */
export function outcomeOf(req: IncomingMessage): Outcome | undefined {
  return outcomes.get(req);
}

type ErrorLike = { message?: string; extensions?: Record<string, unknown> | null };
type ResultLike = { errors?: readonly ErrorLike[] };

/** The path without its query (a GET carries the whole document there), bounded. */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!.slice(0, 100);
}

/** Passes an async iterable through, telling onResult of each result; return() reaches the source at once. */
function tap<T>(source: AsyncIterable<T>, onResult: (value: T) => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        next: async (...args: [] | [unknown]) => {
          const step = await it.next(...args);
          if (!step.done) onResult(step.value);
          return step;
        },
        return: async (value?: unknown) =>
          it.return ? it.return(value) : ({ done: true, value } as IteratorReturnResult<T>),
        throw: async (err?: unknown) => {
          if (it.throw) return it.throw(err);
          throw err;
        },
      };
    },
  };
}

/**
 * Follows an HTTP request from its first byte to the close of its response: the request id (bound to every
 * log line made on its behalf), then one log line and its metrics. What GraphQL did is filled in by
 * useOutcomePlugin on the way.
 */
export function observeRequest(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  metrics: Metrics | undefined,
  options: { quiet: boolean; onStream: (res: ServerResponse, outcome: Outcome) => () => void },
  next: () => void,
): void {
  const outcome = new Outcome(requestId, 'http');
  outcomes.set(req, outcome);
  res.setHeader('x-request-id', requestId);
  let endStream: (() => void) | undefined;
  outcome.onStreamStart = () => {
    endStream = options.onStream(res, outcome);
  };
  res.once('close', () => {
    endStream?.();
    // A response that never began (the client left first) is logged as 499, as proxies do.
    const status = res.headersSent ? res.statusCode : 499;
    if (!outcome.refusals.length) {
      const byStatus = refusalOfStatus(status);
      if (byStatus) outcome.refusals.push(byStatus);
    }
    const fields = outcome.finish(metrics, status);
    logOutcome('request', { method: req.method, path: pathOf(req), ...fields }, options.quiet);
  });
  withLogFields({ requestId }, next);
}

function operationName(document: DocumentNode, given: string | null | undefined): string | undefined {
  try {
    return getOperationAST(document, given)?.name?.value ?? given ?? undefined;
  } catch {
    return given ?? undefined;
  }
}

type YogaContext = { req?: IncomingMessage; viewer?: { id: string; role: string } | null };

/** Fills in a request's outcome from GraphQL: operation name, caller, errors, and whether it streams. */
export function useOutcomePlugin(): Plugin {
  const fromContext = (ctx: unknown) => {
    const req = (ctx as YogaContext | undefined)?.req;
    return req ? outcomes.get(req) : undefined;
  };
  const onOperation = ({
    args,
  }: {
    args: { contextValue: unknown; document: DocumentNode; operationName?: string | null };
  }) => {
    const outcome = fromContext(args.contextValue);
    if (!outcome) return;
    outcome.operation =
      operationForLog(operationName(args.document, args.operationName)) ?? outcome.operation;
    outcome.viewer((args.contextValue as YogaContext).viewer);
  };
  return {
    onParams({ params, context }) {
      const outcome = fromContext(context);
      if (!outcome) return;
      outcome.graphql = true;
      outcome.operation = operationForLog(params.operationName);
    },
    onExecute: onOperation,
    onSubscribe: onOperation,
    onResultProcess({ result, setResult, serverContext }) {
      const req = (serverContext as YogaContext).req;
      const outcome = req ? outcomes.get(req) : undefined;
      if (!outcome) return;
      if (isAsyncIterable(result)) {
        outcome.stream = true;
        if (req && asksForEventStream(req)) outcome.transport = 'sse';
        outcome.onStreamStart?.();
        setResult(tap(result, (r) => outcome.errorsOf((r as ResultLike).errors)));
        return;
      }
      for (const r of Array.isArray(result) ? result : [result]) outcome.errorsOf((r as ResultLike).errors);
    },
  };
}
