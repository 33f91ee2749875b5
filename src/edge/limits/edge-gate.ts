import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionArgs, GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Context } from '../../schema/context-type.ts';
import { refuseBusy } from '../http/body.ts';
import { outcomeOf } from '../http/observe.ts';
import type { AbuseLimits } from '../settings/abuse-limits.ts';
import { Admission } from './admission.ts';
import { callerKey, clientAddress } from './caller.ts';
import { CLOSE_TOO_MANY_SOCKETS, ConnectionGuard } from './connection-caps.ts';
import { judgedCost } from './operation-guard.ts';
import { RateLimits, type RateVerdict } from './rate-limit.ts';
import { busyRefusal } from './refusal.ts';

type Ticket = { release(): void };

/**
 * A request body holds one unit of admission per this many bytes while it is read and parsed. Every
 * operation clients send, with its variables, is far under 30 KB: the fast lane. A body near 1 MB (which no
 * client needs) costs about 100,000, the default cost in flight, so such bodies are parsed one at a time
 * (each is tens of ms of the event loop and several MB of garbage) while cheap requests go on.
 */
export const BODY_BYTES_PER_UNIT = 10;

/** The request behind an operation: over HTTP Yoga's server context, over WebSocket the upgrade request. */
export function requestOf(contextValue: unknown): IncomingMessage | undefined {
  const c = contextValue as { req?: IncomingMessage; extra?: { request?: IncomingMessage } } | undefined;
  return c?.req ?? c?.extra?.request;
}

/** Whether an operation came over a WebSocket: unlike an HTTP request's, its arrival has not been counted. */
function onSocket(contextValue: unknown): boolean {
  return Boolean((contextValue as { extra?: { socket?: unknown } } | undefined)?.extra?.socket);
}

const ALLOWED: RateVerdict = { allowed: true };

const RATE_MESSAGES = {
  rateCustomer: 'Too many requests',
  rateAddress: 'Too many requests from this address',
  rateFailedAuth: 'Too many refused credentials from this address',
} as const;

function rateRefusal(verdict: Extract<RateVerdict, { allowed: false }>): GraphQLError {
  const seconds = verdict.retryAfterSeconds;
  return busyRefusal(
    'RATE_LIMITED',
    verdict.limit,
    `${RATE_MESSAGES[verdict.limit]}: try again in ${seconds} s.`,
    seconds,
  );
}

/**
 * What every operation passes once it is judged within its limits and before it runs: the caller's rate
 * limits, then admission by estimated cost (queries and mutations; a subscription's updates are computed
 * once for all its watchers). A refusal writes nothing, since nothing has run. Before any of that, each
 * arrival is counted against its address (`arrival`).
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
    // An HTTP request was counted against its address as it arrived (admitRequest); a socket's operations
    // are counted here. Customers are counted by subject too, on either transport; staff are not.
    if (onSocket(context)) {
      const byAddress = await this.rate.check('address', callerKey(null, this.addressOf(requestOf(context))));
      if (!byAddress.allowed) return rateRefusal(byAddress);
    }
    if (viewer?.role === 'customer') {
      const bySubject = await this.rate.check('customer', caller);
      if (!bySubject.allowed) return rateRefusal(bySubject);
    }
    const operation = getOperationAST(args.document, args.operationName)?.operation;
    if (operation === 'subscription') return NOTHING;
    const verdict = await this.admission.admit(caller, judgedCost(context) ?? 0);
    return 'refused' in verdict ? overloaded(verdict.refused, 'with expensive requests') : verdict;
  }

  /**
   * Admission for a request body while it is read and parsed, by its address (its token is not read yet),
   * by its size (see BODY_BYTES_PER_UNIT).
   */
  async admitBody(req: IncomingMessage, bytes: number): Promise<Ticket | GraphQLError> {
    const caller = callerKey(null, this.addressOf(req));
    const verdict = await this.admission.admit(caller, Math.ceil(bytes / BODY_BYTES_PER_UNIT));
    return 'refused' in verdict ? overloaded(verdict.refused, 'reading other requests') : verdict;
  }

  /** The address a request comes from, as it is counted (IPv6 by /64). */
  addressOf(req: IncomingMessage | undefined): string {
    return clientAddress(req, this.limits.rate.trustProxyHops);
  }

  /**
   * Counts an arrival (an HTTP request, a WebSocket presenting its credential) against its address before
   * its token or body is read. Refused when the address is over its limit, or when it brings a credential
   * and the address has used up its budget of refused ones: that credential is then never verified, valid
   * or not. Null when it may go on.
   */
  async arrival(req: IncomingMessage, withCredential: boolean): Promise<GraphQLError | null> {
    // Rate limits off (the default): nothing to count, on the path of every request.
    if (!this.rate.countsArrivals) return null;
    const address = this.addressOf(req);
    const [byAddress, byFailures] = await Promise.all([
      this.rate.check('address', callerKey(null, address)),
      withCredential ? this.rate.checkFailedAuth(address) : ALLOWED,
    ]);
    const verdict = byFailures.allowed ? byAddress : byFailures;
    return verdict.allowed ? null : rateRefusal(verdict);
  }

  /** An HTTP request's arrival: true when it may go on; otherwise it is answered (429) and its body drained. */
  async admitRequest(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const refusal = await this.arrival(req, Boolean(req.headers.authorization));
    if (!refusal) return true;
    outcomeOf(req)?.errorsOf([refusal]);
    refuseBusy(req, res, refusal);
    return false;
  }

  /** Counts a credential refused from the request's address. */
  failedAuthentication(req: IncomingMessage | undefined): Promise<void> {
    return this.rate.countFailedAuth(this.addressOf(req));
  }

  /** For a context that could not be made: a refused credential (UNAUTHENTICATED) is counted; `err` goes on. */
  async contextFailed(contextValue: unknown, err: unknown): Promise<never> {
    if (err instanceof GraphQLError && err.extensions.code === 'UNAUTHENTICATED') {
      await this.failedAuthentication(requestOf(contextValue));
    }
    throw err;
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

/** Admission's refusal (HTTP 503), naming the cap that was full. */
function overloaded(cap: string, busyWith: string): GraphQLError {
  return busyRefusal('OVERLOADED', cap, `The service is busy ${busyWith}: try again shortly.`, 1);
}

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
 * Whether a WebSocket presenting its credential is heard at all: its arrival (see EdgeGate.arrival), before
 * the credential is verified. A refused one is closed with 4429 and a reason, as over the socket cap.
 */
export async function admitConnection(
  gate: EdgeGate,
  extra: { socket: WebSocket; request: IncomingMessage },
  connectionParams: Readonly<Record<string, unknown>> | undefined,
): Promise<boolean> {
  // Any casing counts: another one is refused as a credential, not taken as anonymous.
  const withCredential = Object.entries(connectionParams ?? {}).some(
    ([key, value]) =>
      key.toLowerCase() === 'authorization' && value !== undefined && value !== null && value !== '',
  );
  const refusal = await gate.arrival(extra.request, withCredential);
  if (!refusal) return true;
  extra.socket.close(CLOSE_TOO_MANY_SOCKETS, refusal.message);
  return false;
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
