/** How webhooks are delivered and kept. Every field but the retention interval is a setting (src/edge/settings/settings.ts). */
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
