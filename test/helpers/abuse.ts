import { createConnection } from 'node:net';
import {
  type AbuseLimits,
  type AdmissionSettings,
  type ConnectionCaps,
  DEFAULT_ABUSE_LIMITS,
  type RateLimitSettings,
} from '../../src/edge/settings/abuse-limits.ts';

/** The defaults with some settings changed. */
export function abuseLimits(
  over: {
    rate?: Partial<RateLimitSettings>;
    connections?: Partial<ConnectionCaps>;
    admission?: Partial<AdmissionSettings>;
  } = {},
): AbuseLimits {
  return {
    rate: { ...DEFAULT_ABUSE_LIMITS.rate, ...over.rate },
    connections: { ...DEFAULT_ABUSE_LIMITS.connections, ...over.connections },
    admission: { ...DEFAULT_ABUSE_LIMITS.admission, ...over.admission },
  };
}

/** Redis for the tests: REDIS_URL, else the machine's. */
export const TEST_REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** Whether something answers on the Redis port (a plain TCP connect, so no client retries linger). */
export function redisReachable(url = TEST_REDIS_URL): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Redis tests run when Redis answers; with REQUIRE_REDIS=1 (CI) a missing Redis fails them instead of
 * skipping them.
 */
export async function redisForTests(url = TEST_REDIS_URL): Promise<boolean> {
  const up = await redisReachable(url);
  if (!up && process.env.REQUIRE_REDIS === '1') {
    throw new Error(`REQUIRE_REDIS=1 but Redis does not answer at ${url}`);
  }
  return up;
}
