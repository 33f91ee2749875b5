/** Rate limits, connection caps and admission control, with their defaults: plain data for configuration. */

export interface RateLimitSettings {
  /** Operations per window a customer may send (by token subject); 0: no limit. */
  customer: number;
  /**
   * Requests per window from one address (IPv6 by /64), whoever sends them, counted before any token or
   * body is read: every HTTP request, every WebSocket connection attempt and operation; 0: no limit.
   * `RATE_LIMIT_ANONYMOUS`: it once counted only the operations of callers without a token.
   */
  anonymous: number;
  /** Refused credentials per window from one address; past them its credentials go unread. 0: no limit. */
  failedAuth: number;
  windowSeconds: number;
  /** Proxies in front of the service whose X-Forwarded-For entries are believed; 0: none. */
  trustProxyHops: number;
  /** Shared counters across instances; unset: in this process only. */
  redisUrl: string | undefined;
  /** Prefix of the counters' keys in Redis, so that services (or test runs) sharing one do not meet. */
  keyPrefix: string;
}

export interface ConnectionCaps {
  /** Operations open at once on one WebSocket (subscriptions, and queries in flight). */
  subscriptionsPerSocket: number;
  /** WebSockets open at once per caller (token subject, or address without one). */
  socketsPerCaller: number;
  /** Server-Sent Event streams open at once per caller. */
  streamsPerCaller: number;
  /** TCP connections open at once on the port, all callers together. */
  openConnections: number;
  /**
   * TCP connections open at once from one peer address (IPv6 by /64); 0: no limit. Counted when the
   * connection is accepted, before any request: the peer, never X-Forwarded-For, so behind a proxy every
   * client shares the proxy's address and this must stay off.
   */
  connectionsPerAddress: number;
}

export interface AdmissionSettings {
  enabled: boolean;
  /** Estimated cost of the operations running at once, all callers together. */
  costInFlight: number;
  /** The same for one caller. */
  costPerCaller: number;
  /** Operations costing at most this run at once, without waiting: the fast lane. */
  fastLaneCost: number;
  /** Longest wait for a turn before the operation is refused (503 OVERLOADED). */
  maxWaitMs: number;
}

export interface AbuseLimits {
  rate: RateLimitSettings;
  connections: ConnectionCaps;
  admission: AdmissionSettings;
}

/** The failed-authentication budget when another rate limit is on and it is not set. */
export const DEFAULT_FAILED_AUTH_WHEN_LIMITED = 10;

export const DEFAULT_ABUSE_LIMITS: AbuseLimits = {
  rate: {
    customer: 0,
    anonymous: 0,
    failedAuth: 0,
    windowSeconds: 60,
    trustProxyHops: 0,
    redisUrl: undefined,
    keyPrefix: 'backorder-api',
  },
  connections: {
    subscriptionsPerSocket: 100,
    socketsPerCaller: 16,
    streamsPerCaller: 16,
    openConnections: 10_000,
    connectionsPerAddress: 0,
  },
  admission: {
    enabled: true,
    costInFlight: 100_000,
    costPerCaller: 100_000,
    fastLaneCost: 3_000,
    maxWaitMs: 5_000,
  },
};
