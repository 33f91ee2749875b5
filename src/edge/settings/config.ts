import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AlertSettings } from '../../domain/alert-settings.ts';
import { WEBHOOK_DEFAULTS, type WebhookSettings } from '../../outbox/webhook-settings.ts';
import type { AbuseLimits } from './abuse-limits.ts';
import type { EdgeConfig, OutboxConfig, TokenConfig } from './defaults.ts';
import type { CostBudgets, DocumentLimits } from './document-limits.ts';
import type { OpsConfig } from './ops-settings.ts';
import { type Env, readSettings } from './settings.ts';

export { ConfigError } from './settings.ts';

export interface Config {
  production: boolean;
  host: string | undefined;
  port: number;
  /** Unset: start the embedded Postgres under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
  jwtSecret: string;
  /** True when no JWT_SECRET was given outside production and one was made for this run. */
  jwtSecretGenerated: boolean;
  seedDemo: boolean;
  pool: { max: number; connectionTimeoutMs: number; statementTimeoutMs: number };
  /** Live updates: at most one recomputation per product and message per subscription in this window. */
  mergeWindowMs: number;
  /** Products whose availability inputs are held in memory (READ_CACHE_PRODUCTS); 0: none. */
  readCacheProducts: number;
  /**
   * Units one customer may hold of a product without a `maxPerCustomer` of its own (MAX_PER_CUSTOMER_DEFAULT);
   * 0: no cap for such products.
   */
  maxPerCustomerDefault: number;
  /** How much the log says, and how (applied by main.ts). */
  log: { level: 'debug' | 'info' | 'warn' | 'error' | 'silent'; format: 'json' | 'pretty' };
  edge: EdgeConfig;
  tokens: TokenConfig;
  /** Depth, aliases, tokens and directives a document may have. */
  documentLimits: DocumentLimits;
  /** The estimated cost an operation may have, per role of the caller. */
  costBudgets: CostBudgets;
  /** Probes, metrics and shutdown. */
  ops: OpsConfig;
  /** Public events for the shop's other systems. */
  outbox: OutboxConfig;
  /** Webhook delivery, address rules and retention. */
  webhooks: WebhookSettings;
  /** Rate limits, connection caps and admission control. */
  abuse: AbuseLimits;
  /** Back-in-stock requests: how many one customer may hold open, how long closed ones are kept. */
  alerts: AlertSettings;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The environment to typed configuration: the settings as read by the one reader, put in their places. */
export function loadConfig(env: Env = process.env): Config {
  const s = readSettings(env);
  const production = s.NODE_ENV === 'production';
  return {
    production,
    host: s.HOST,
    port: s.PORT,
    databaseUrl: s.DATABASE_URL,
    dataDir: path.resolve(s.DATA_DIR),
    embeddedPort: s.EMBEDDED_PG_PORT,
    jwtSecret: s.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    jwtSecretGenerated: s.JWT_SECRET === undefined,
    seedDemo: s.SEED_DEMO,
    pool: {
      max: s.DB_POOL_MAX,
      connectionTimeoutMs: s.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: s.DB_STATEMENT_TIMEOUT_MS,
    },
    mergeWindowMs: s.LIVE_MERGE_WINDOW_MS,
    readCacheProducts: s.READ_CACHE_PRODUCTS,
    maxPerCustomerDefault: s.MAX_PER_CUSTOMER_DEFAULT,
    log: { level: s.LOG_LEVEL, format: s.LOG_FORMAT },
    outbox: { etaMarginMs: s.ETA_MOVED_MARGIN_MINUTES * MINUTE, pollMs: s.OUTBOX_POLL_MS },
    edge: {
      graphiql: s.GRAPHIQL,
      demo: s.DEMO,
      introspection: s.INTROSPECTION,
      suggestions: s.SUGGESTIONS,
      corsOrigins: s.CORS_ORIGINS,
      requestTimeoutMs: s.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: s.HTTP_HEADERS_TIMEOUT_MS,
    },
    tokens: {
      maxLifetimeSeconds: s.JWT_MAX_LIFETIME_SECONDS,
      issuer: s.JWT_ISSUER,
      audience: s.JWT_AUDIENCE,
    },
    documentLimits: {
      depth: s.MAX_DEPTH,
      aliases: s.MAX_ALIASES,
      tokens: s.MAX_TOKENS,
      directives: s.MAX_DIRECTIVES,
    },
    costBudgets: {
      anonymous: s.COST_BUDGET_ANONYMOUS,
      customer: s.COST_BUDGET_CUSTOMER,
      staff: s.COST_BUDGET_STAFF,
    },
    ops: {
      metrics: s.METRICS,
      metricsPort: s.METRICS_PORT,
      listenerGraceMs: s.READY_LISTENER_GRACE_MS,
      shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS,
    },
    webhooks: {
      worker: s.WEBHOOK_WORKER,
      allowLoopback: s.WEBHOOK_ALLOW_LOOPBACK,
      allowPrivate: s.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: s.WEBHOOK_TIMEOUT_MS,
      backoffBaseMs: s.WEBHOOK_BACKOFF_BASE_MS,
      backoffCapMs: s.WEBHOOK_BACKOFF_CAP_MS,
      maxAttempts: s.WEBHOOK_MAX_ATTEMPTS,
      concurrency: s.WEBHOOK_CONCURRENCY,
      endpointConcurrency: s.WEBHOOK_ENDPOINT_CONCURRENCY,
      failingEndpointConcurrency: s.WEBHOOK_FAILING_ENDPOINT_CONCURRENCY,
      disableAfterMs: s.WEBHOOK_DISABLE_AFTER_MINUTES * MINUTE,
      pollMs: s.WEBHOOK_POLL_MS,
      retentionMs: s.WEBHOOK_RETENTION_DAYS * DAY,
      retentionIntervalMs: WEBHOOK_DEFAULTS.retentionIntervalMs,
    },
    alerts: {
      maxPerCustomer: s.MAX_ALERTS_PER_CUSTOMER,
      retentionMs: s.ALERT_RETENTION_DAYS * DAY,
    },
    abuse: {
      rate: {
        customer: s.RATE_LIMIT_CUSTOMER,
        anonymous: s.RATE_LIMIT_ANONYMOUS,
        failedAuth: s.RATE_LIMIT_FAILED_AUTH,
        windowSeconds: s.RATE_LIMIT_WINDOW_SECONDS,
        trustProxyHops: s.TRUST_PROXY_HOPS,
        redisUrl: s.REDIS_URL,
        keyPrefix: s.REDIS_KEY_PREFIX,
      },
      connections: {
        subscriptionsPerSocket: s.MAX_SUBSCRIPTIONS_PER_SOCKET,
        socketsPerCaller: s.MAX_SOCKETS_PER_CALLER,
        streamsPerCaller: s.MAX_STREAMS_PER_CALLER,
        openConnections: s.MAX_OPEN_CONNECTIONS,
        connectionsPerAddress: s.MAX_CONNECTIONS_PER_ADDRESS,
      },
      admission: {
        enabled: s.ADMISSION_CONTROL,
        costInFlight: s.ADMISSION_COST_IN_FLIGHT,
        costPerCaller: s.ADMISSION_COST_PER_CALLER,
        fastLaneCost: s.ADMISSION_FAST_LANE_COST,
        maxWaitMs: s.ADMISSION_MAX_WAIT_MS,
      },
    },
  };
}
