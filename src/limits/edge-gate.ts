import type { IncomingMessage } from 'node:http';
import { type ExecutionArgs, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Context } from '../schema/context-type.ts';
import type { AbuseLimits } from './abuse-settings.ts';
import { Admission } from './admission.ts';
import { callerKey, clientAddress } from './caller.ts';
import { ConnectionGuard } from './connection-caps.ts';
import { judgedCost } from './operation-guard.ts';
import { RateLimits } from './rate-limit.ts';
import { busyRefusal } from './refusal.ts';

type Ticket = { release(): void };

/** The request behind an operation: over HTTP Yoga's server context, over WebSocket the upgrade request. */
export function requestOf(contextValue: unknown): IncomingMessage | undefined {
  const c = contextValue as { req?: IncomingMessage; extra?: { request?: IncomingMessage } } | undefined;
  return c?.req ?? c?.extra?.request;
}

/**
 * What every operation passes once it is judged within its limits and before it runs: the caller's rate
 * limit, then admission by estimated cost (queries and mutations; a subscription's updates are computed
 * once for all its watchers). A refusal writes nothing, since nothing has run.
 */
export class EdgeGate {
  readonly rate: RateLimits;
  readonly admission: Admission;
  private readonly passed = new WeakSet<object>();

  constructor(readonly limits: AbuseLimits) {
    this.rate = new RateLimits(limits.rate);
    this.admission = new Admission(limits.admission);
  }

  /** The caller's key for counting: token subject, or address (IPv6 by /64) without a token. */
  callerOf(contextValue: unknown): string {
    const viewer = (contextValue as Context | undefined)?.viewer ?? null;
    return callerKey(viewer, clientAddress(requestOf(contextValue), this.limits.rate.trustProxyHops));
  }

  /** Once per operation (a context that already passed is let through: WebSocket operations pass early). */
  async enter(args: ExecutionArgs): Promise<Ticket | GraphQLError> {
    const context = args.contextValue as object | undefined;
    if (context && this.passed.has(context)) return NOTHING;
    if (context) this.passed.add(context);
    const viewer = (context as Context | undefined)?.viewer ?? null;
    const caller = this.callerOf(context);
    const rate = await this.rate.check(viewer?.role ?? 'anonymous', caller);
    if (!rate.allowed) {
      return busyRefusal(
        'RATE_LIMITED',
        rate.limit,
        `Too many requests: try again in ${rate.retryAfterSeconds} s.`,
        rate.retryAfterSeconds,
      );
    }
    const operation = getOperationAST(args.document, args.operationName)?.operation;
    if (operation === 'subscription') return NOTHING;
    const verdict = await this.admission.admit(caller, judgedCost(context) ?? 0);
    if ('refused' in verdict) {
      return busyRefusal(
        'OVERLOADED',
        verdict.refused,
        'The service is busy with expensive requests: try again shortly.',
        1,
      );
    }
    return verdict;
  }

  /** Waits (briefly) for the rate limits' store. */
  ready(): Promise<void> {
    return this.rate.ready();
  }

  close(): Promise<void> {
    return this.rate.close();
  }
}

const NOTHING: Ticket = { release: () => {} };

/**
 * The result as decided now. graphql's result shares its error list with the execution, so a sibling
 * field's read that is refused afterwards would add its error to an answer not yet sent.
 */
function answered<R>(result: R): R {
  if (result === null || typeof result !== 'object' || !('errors' in result)) return result;
  const errors = (result as { errors?: unknown }).errors;
  return Array.isArray(errors) ? { ...result, errors: [...errors] } : result;
}

/** The gate on HTTP and Server-Sent Events; after the operation guard, which prices the operation. */
export function useEdgeGate(gate: EdgeGate): Plugin {
  return {
    async onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const ticket = await gate.enter(args);
      if (!('release' in ticket)) {
        setResultAndStopExecution({ errors: [ticket] });
        return undefined;
      }
      // Released however the operation ends: an executor that throws skips onExecuteDone, and a later
      // plugin that answers instead of executing skips the executor. Releasing twice is harmless.
      setExecuteFn(async (executionArgs) => {
        try {
          return answered(await executeFn(executionArgs));
        } finally {
          // The answer is decided: reads not yet started never start, and the cost stays admitted (and
          // the answer waits) until those under way have ended.
          await (executionArgs.contextValue as Context | undefined)?.work?.close();
          ticket.release();
        }
      });
      return { onExecuteDone: () => ticket.release() };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const ticket = await gate.enter(args);
      if (!('release' in ticket)) setResultAndStopExecution({ errors: [ticket] });
    },
  };
}

/** The caller of a request that has not reached Yoga yet (an event stream): its token's subject or address. */
export async function callerOfRequest(
  gate: EdgeGate,
  req: IncomingMessage,
  authenticate: (authorization: string | null) => Promise<Context['viewer']>,
): Promise<string> {
  const viewer = await authenticate(req.headers.authorization ?? null).catch(() => null);
  return gate.callerOf({ req, viewer });
}

/**
 * Whether a WebSocket that just presented its credential may stay: its caller holds fewer sockets than
 * the cap. A refused one is closed with 4429 and a reason.
 */
export function admitSocket(
  gate: EdgeGate,
  connections: ConnectionGuard,
  extra: { socket: WebSocket; request: IncomingMessage },
  viewer: Context['viewer'],
): boolean {
  if (connections.admitSocket(extra.socket, gate.callerOf({ viewer, extra }))) return true;
  ConnectionGuard.refuseSocket(extra.socket, connections.caps.socketsPerCaller);
  return false;
}
