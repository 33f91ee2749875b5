import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { log } from '../log.ts';
import type { RateLimitSettings } from './abuse-settings.ts';

export type RateVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; limit: RateLimitName };
export type RateLimitName = 'rateCustomer' | 'rateAnonymous';

interface Limiter {
  consume(key: string): Promise<unknown>;
}

/**
 * Operations per window, per customer and per anonymous address (staff are not limited). In memory on one
 * instance; through Redis, shared by every instance, when a URL is set. The limits protect the service,
 * they are not what it is for: if Redis cannot answer, operations go through (logged once per outage) and
 * counting resumes by itself when Redis is back.
 */
export class RateLimits {
  private readonly customer: Limiter | null;
  private readonly anonymous: Limiter | null;
  private readonly redis: Redis | null = null;
  private failing = false;

  constructor(
    settings: RateLimitSettings,
    private readonly logger: Pick<typeof log, 'warn' | 'info'> = log,
  ) {
    const make = (points: number, prefix: string): Limiter | null => {
      if (points <= 0) return null;
      const options = {
        points,
        duration: settings.windowSeconds,
        keyPrefix: `${settings.keyPrefix}:rate:${prefix}`,
      };
      if (!this.redis) return new RateLimiterMemory(options);
      return new RateLimiterRedis({ ...options, storeClient: this.redis, rejectIfRedisNotReady: true });
    };
    if (settings.redisUrl && (settings.customer > 0 || settings.anonymous > 0)) {
      this.redis = new Redis(settings.redisUrl, {
        // Fail fast while disconnected (no queue of commands waiting), and keep trying to reconnect.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: 1000,
        lazyConnect: false,
        retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      });
      // Connection errors surface through consume(); without a listener ioredis would print each one.
      this.redis.on('error', () => {});
    }
    this.customer = make(settings.customer, 'c');
    this.anonymous = make(settings.anonymous, 'a');
  }

  /**
   * Resolves once the store can count, or after `timeoutMs` (the limits then fail open until it can):
   * a start waits briefly for Redis rather than letting its first requests through uncounted.
   */
  async ready(timeoutMs = 2000): Promise<void> {
    const redis = this.redis;
    if (!redis || redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        redis!.off('ready', done);
        resolve();
      }
      redis.once('ready', done);
    });
  }

  /** Counts one operation of the caller. `key` is its token subject, or its address for anonymous callers. */
  async check(role: 'anonymous' | 'customer' | 'staff', key: string): Promise<RateVerdict> {
    const limiter = role === 'customer' ? this.customer : role === 'anonymous' ? this.anonymous : null;
    if (!limiter) return { allowed: true };
    try {
      await limiter.consume(key);
      this.recovered();
      return { allowed: true };
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        this.recovered();
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
          limit: role === 'customer' ? 'rateCustomer' : 'rateAnonymous',
        };
      }
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          `rate limits not enforced: their store does not answer (${err instanceof Error ? err.message : String(err)})`,
        );
      }
      return { allowed: true };
    }
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info('rate limits enforced again: their store answers');
  }

  async close(): Promise<void> {
    if (this.redis) this.redis.disconnect();
  }
}
