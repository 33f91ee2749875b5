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

/** The readers of config.ts, so that every setting fails the same way, naming its variable. */
export interface SettingReaders {
  int(name: string, fallback: number, min: number, max: number): number;
  bool(name: string, fallback: boolean): boolean;
  text(name: string): string | undefined;
  fail(message: string): Error;
}

export function loadAbuseLimits(read: SettingReaders): AbuseLimits {
  const d = DEFAULT_ABUSE_LIMITS;
  const redisUrl = read.text('REDIS_URL')?.trim() || undefined;
  if (redisUrl && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    throw read.fail('REDIS_URL must be a redis:// or rediss:// URL');
  }
  const trustProxyHops = read.int('TRUST_PROXY_HOPS', d.rate.trustProxyHops, 0, 10);
  const connectionsPerAddress = read.int(
    'MAX_CONNECTIONS_PER_ADDRESS',
    d.connections.connectionsPerAddress,
    0,
    1_000_000,
  );
  // A connection is counted when accepted, before any header, by its peer: behind a proxy that is the
  // proxy, and every client behind it would share one address's connections.
  if (connectionsPerAddress > 0 && trustProxyHops > 0) {
    throw read.fail(
      'MAX_CONNECTIONS_PER_ADDRESS counts the peer of a connection, which behind TRUST_PROXY_HOPS proxies is a proxy: leave it 0 (off) there',
    );
  }
  const customer = read.int('RATE_LIMIT_CUSTOMER', d.rate.customer, 0, 1_000_000);
  const anonymous = read.int('RATE_LIMIT_ANONYMOUS', d.rate.anonymous, 0, 1_000_000);
  // A shop that turns rate limits on gets the guard against token guessing with them.
  const failedAuthDefault =
    customer > 0 || anonymous > 0 ? DEFAULT_FAILED_AUTH_WHEN_LIMITED : d.rate.failedAuth;
  return {
    rate: {
      customer,
      anonymous,
      failedAuth: read.int('RATE_LIMIT_FAILED_AUTH', failedAuthDefault, 0, 1_000_000),
      windowSeconds: read.int('RATE_LIMIT_WINDOW_SECONDS', d.rate.windowSeconds, 1, 86_400),
      trustProxyHops,
      redisUrl,
      keyPrefix: read.text('REDIS_KEY_PREFIX')?.trim() || d.rate.keyPrefix,
    },
    connections: {
      subscriptionsPerSocket: read.int(
        'MAX_SUBSCRIPTIONS_PER_SOCKET',
        d.connections.subscriptionsPerSocket,
        1,
        10_000,
      ),
      socketsPerCaller: read.int('MAX_SOCKETS_PER_CALLER', d.connections.socketsPerCaller, 1, 10_000),
      streamsPerCaller: read.int('MAX_STREAMS_PER_CALLER', d.connections.streamsPerCaller, 1, 10_000),
      openConnections: read.int('MAX_OPEN_CONNECTIONS', d.connections.openConnections, 1, 1_000_000),
      connectionsPerAddress,
    },
    admission: {
      enabled: read.bool('ADMISSION_CONTROL', d.admission.enabled),
      costInFlight: read.int('ADMISSION_COST_IN_FLIGHT', d.admission.costInFlight, 1, 1_000_000_000),
      costPerCaller: read.int('ADMISSION_COST_PER_CALLER', d.admission.costPerCaller, 1, 1_000_000_000),
      fastLaneCost: read.int('ADMISSION_FAST_LANE_COST', d.admission.fastLaneCost, 0, 1_000_000_000),
      maxWaitMs: read.int('ADMISSION_MAX_WAIT_MS', d.admission.maxWaitMs, 1, 600_000),
    },
  };
}
