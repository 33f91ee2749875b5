/** How webhooks are delivered and kept. Every field is a setting (src/config.ts, README "Configuration"). */
export interface WebhookSettings {
  /** Run the delivery worker (and retention) in this instance. */
  worker: boolean;
  /** `http://` endpoints on loopback, and sending to loopback addresses. Refused in production. */
  allowLoopback: boolean;
  /** Sending to private, link-local, carrier-grade NAT and unique-local addresses. */
  allowPrivate: boolean;
  /** One attempt, from connecting to the end of the response. */
  timeoutMs: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  maxAttempts: number;
  /** Requests in flight from this instance; those to failing endpoints together at most half (failingSlots). */
  concurrency: number;
  /** Requests in flight to one endpoint, across instances. */
  endpointConcurrency: number;
  /** The same, for an endpoint whose last attempt failed (at most `endpointConcurrency`). */
  failingEndpointConcurrency: number;
  /** An endpoint failing without a success for this long is disabled. */
  disableAfterMs: number;
  /** How often the worker looks for due deliveries without being woken. */
  pollMs: number;
  /** Delivered deliveries, their events and the change log are kept this long. */
  retentionMs: number;
  /** How often retention runs. */
  retentionIntervalMs: number;
}

export const WEBHOOK_DEFAULTS: WebhookSettings = {
  worker: true,
  allowLoopback: false,
  allowPrivate: false,
  timeoutMs: 10_000,
  backoffBaseMs: 5_000,
  backoffCapMs: 3_600_000,
  maxAttempts: 15,
  concurrency: 16,
  endpointConcurrency: 4,
  failingEndpointConcurrency: 1,
  disableAfterMs: 86_400_000,
  pollMs: 1_000,
  retentionMs: 7 * 86_400_000,
  retentionIntervalMs: 600_000,
};

/** A claimed delivery is another worker's again this long after its attempt should have ended. */
export const leaseMs = (settings: Pick<WebhookSettings, 'timeoutMs'>): number => settings.timeoutMs + 5_000;

/**
 * How many of an instance's requests may go to failing endpoints (whose last attempt failed) together:
 * half of its slots, rounded down, and at least one so that they are still retried. The rest is kept for
 * endpoints that answer; what failing endpoints do not use is anyone's.
 */
export const failingSlots = (settings: Pick<WebhookSettings, 'concurrency'>): number =>
  Math.max(1, Math.floor(settings.concurrency / 2));

/** How config.ts reads a setting, failing with a message that names it. */
interface Readers {
  int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number;
  bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean;
  fail(message: string): Error;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The WEBHOOK_* settings. Loopback is for a receiver on the developer's machine: never in production. */
export function webhookSettings(env: NodeJS.ProcessEnv, production: boolean, read: Readers): WebhookSettings {
  const d = WEBHOOK_DEFAULTS;
  const allowLoopback = read.bool(env, 'WEBHOOK_ALLOW_LOOPBACK', d.allowLoopback);
  if (allowLoopback && production) {
    throw read.fail('WEBHOOK_ALLOW_LOOPBACK cannot be on in production (NODE_ENV=production)');
  }
  const backoffBaseMs = read.int(env, 'WEBHOOK_BACKOFF_BASE_MS', d.backoffBaseMs, 10, 3_600_000);
  const backoffCapMs = read.int(env, 'WEBHOOK_BACKOFF_CAP_MS', d.backoffCapMs, 10, 7 * DAY);
  if (backoffCapMs < backoffBaseMs) {
    throw read.fail('WEBHOOK_BACKOFF_CAP_MS must not be shorter than WEBHOOK_BACKOFF_BASE_MS');
  }
  const endpointConcurrency = read.int(env, 'WEBHOOK_ENDPOINT_CONCURRENCY', d.endpointConcurrency, 1, 100);
  const failingEndpointConcurrency = read.int(
    env,
    'WEBHOOK_FAILING_ENDPOINT_CONCURRENCY',
    d.failingEndpointConcurrency,
    1,
    100,
  );
  if (failingEndpointConcurrency > endpointConcurrency) {
    throw read.fail(
      'WEBHOOK_FAILING_ENDPOINT_CONCURRENCY must not be more than WEBHOOK_ENDPOINT_CONCURRENCY',
    );
  }
  return {
    worker: read.bool(env, 'WEBHOOK_WORKER', d.worker),
    allowLoopback,
    allowPrivate: read.bool(env, 'WEBHOOK_ALLOW_PRIVATE', d.allowPrivate),
    timeoutMs: read.int(env, 'WEBHOOK_TIMEOUT_MS', d.timeoutMs, 100, 120_000),
    backoffBaseMs,
    backoffCapMs,
    maxAttempts: read.int(env, 'WEBHOOK_MAX_ATTEMPTS', d.maxAttempts, 1, 100),
    concurrency: read.int(env, 'WEBHOOK_CONCURRENCY', d.concurrency, 1, 1000),
    endpointConcurrency,
    failingEndpointConcurrency,
    disableAfterMs:
      read.int(env, 'WEBHOOK_DISABLE_AFTER_MINUTES', d.disableAfterMs / MINUTE, 1, 365 * 24 * 60) * MINUTE,
    pollMs: read.int(env, 'WEBHOOK_POLL_MS', d.pollMs, 50, 60_000),
    retentionMs: read.int(env, 'WEBHOOK_RETENTION_DAYS', d.retentionMs / DAY, 1, 3650) * DAY,
    retentionIntervalMs: d.retentionIntervalMs,
  };
}
