import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { MAX_TIMER_MS } from './socket-session.ts';

const expired = (): ExecutionResult => ({
  errors: [new GraphQLError('Token has expired', { extensions: { code: 'UNAUTHENTICATED' } })],
});

/**
 * A stream that ends at `expiresAt` with an UNAUTHENTICATED error. Not an async generator: one of those
 * would hold a return() (the client going away) until the next event, keeping the source alive until then.
 */
function endingAt(
  source: AsyncIterable<ExecutionResult>,
  expiresAt: number,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const EXPIRED = Symbol('expired');
  const expiry = new Promise<typeof EXPIRED>((resolve) => {
    // setTimeout holds at most MAX_TIMER_MS and a token may live longer: timers are chained.
    const arm = () => {
      const left = expiresAt - Date.now();
      if (left <= 0) resolve(EXPIRED);
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  });
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    if (!finished) {
      finished = true;
      clearTimeout(timer);
      await iterator.return?.();
    }
    return { done: true, value: undefined };
  };
  return {
    async next() {
      if (finished) return { done: true, value: undefined };
      const step = await Promise.race([iterator.next(), expiry]);
      // An event that was ready as the token expired is not sent either.
      if (step === EXPIRED || Date.now() >= expiresAt) {
        await finish();
        return { done: false, value: expired() };
      }
      if (step.done) await finish();
      return step;
    },
    return: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A subscription over HTTP (Server-Sent Events) lives no longer than its token, as a WebSocket does (src/edge/auth/
 * socket-session.ts closes those with 4403): at the token's `exp`, which the context read with the token, the
 * stream gets an UNAUTHENTICATED error and ends.
 */
export function useStreamExpiry(): Plugin<{ connectionParams?: unknown; credentialExpiresAt?: Date }> {
  return {
    onSubscribe({ args }) {
      const { connectionParams, credentialExpiresAt } = args.contextValue;
      // Sockets carry connectionParams; their session ends them.
      if (connectionParams !== undefined || !credentialExpiresAt) return;
      const expiresAt = credentialExpiresAt.getTime();
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endingAt(result, expiresAt));
        },
      };
    },
  };
}
