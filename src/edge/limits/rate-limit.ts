import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { log } from '../../base/log.ts';
import type { RateLimitSettings } from '../settings/abuse-limits.ts';

export type RateVerdict =
  | { allowed: true }
  | { allowed: false; retryAfterSeconds: number; limit: RateLimitName };
export type RateLimitName = 'rateCustomer' | 'rateAddress' | 'rateFailedAuth';

interface Limiter {
  consume(key: string): Promise<unknown>;
  penalty(key: string): Promise<unknown>;
  get(key: string): Promise<RateLimiterRes | null>;
}

const ALLOWED: RateVerdict = { allowed: true };

/**
 * Counts per window: each customer's operations (by token subject), everything that arrives from one
 * address, and the credentials refused from one address (staff by subject are not limited). In memory on
 * one instance; through Redis, shared by every instance, when a URL is set. The limits protect the service,
 * they are not what it is for: if Redis cannot answer, everything goes through (logged once per outage) and
 * counting resumes by itself when Redis is back.
 */
export class RateLimits {
  private readonly customer: Limiter | null;
  private readonly address: Limiter | null;
  private readonly failedAuth: Limiter | null;
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
    if (settings.redisUrl && (settings.customer > 0 || settings.anonymous > 0 || settings.failedAuth > 0)) {
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
    this.address = make(settings.anonymous, 'a');
    this.failedAuth = make(settings.failedAuth, 'f');
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

  /** Whether arrivals are counted at all (an address limit or a failed-authentication budget is set). */
  get countsArrivals(): boolean {
    return this.address !== null || this.failedAuth !== null;
  }

  /** Counts one against a limit: a customer's operation (`key` its subject), or an arrival from an address. */
  async check(limit: 'customer' | 'address', key: string): Promise<RateVerdict> {
    const limiter = limit === 'customer' ? this.customer : this.address;
    if (!limiter) return ALLOWED;
    return this.ask(async () => {
      try {
        await limiter.consume(key);
        return ALLOWED;
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        return refused(err, limit === 'customer' ? 'rateCustomer' : 'rateAddress');
      }
    });
  }

  /** Whether the address has used up its failed-authentication budget; counts nothing. */
  async checkFailedAuth(key: string): Promise<RateVerdict> {
    const limiter = this.failedAuth;
    if (!limiter) return ALLOWED;
    return this.ask(async () => {
      const res = await limiter.get(key);
      // In memory, a window that has passed may linger until its timer removes it.
      const over = res !== null && res.remainingPoints <= 0 && res.msBeforeNext > 0;
      return over ? refused(res, 'rateFailedAuth') : ALLOWED;
    });
  }

  /** Counts a credential refused from the address. */
  async countFailedAuth(key: string): Promise<void> {
    const limiter = this.failedAuth;
    if (limiter) await this.ask(() => limiter.penalty(key));
  }

  /** A question to the store; one it cannot answer lets the caller through. */
  private async ask<T>(question: () => Promise<T>): Promise<T | RateVerdict> {
    try {
      const answer = await question();
      this.recovered();
      return answer;
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          `rate limits not enforced: their store does not answer (${err instanceof Error ? err.message : String(err)})`,
        );
      }
      return ALLOWED;
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

function refused(res: RateLimiterRes, limit: RateLimitName): RateVerdict {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)), limit };
}
