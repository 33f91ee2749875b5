import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ALERT_DEFAULTS, type AlertSettings } from './domain/alert-settings.ts';
import { type WebhookSettings, webhookSettings } from './jobs/webhook-settings.ts';
import { type AbuseLimits, loadAbuseLimits } from './limits/abuse-settings.ts';
import {
  type CostBudgets,
  DEFAULT_COST_BUDGETS,
  DEFAULT_DOCUMENT_LIMITS,
  type DocumentLimits,
  MAX_TOKENS_SETTING,
} from './limits/defaults.ts';
import { type OpsConfig, opsSettings } from './ops/settings.ts';
import { MAX_PER_CUSTOMER_DEFAULT } from './rules/stock-rules.ts';

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
  /**
   * Units one customer may hold of a product without a `maxPerCustomer` of its own (MAX_PER_CUSTOMER_DEFAULT);
   * 0: no cap for such products.
   */
  maxPerCustomerDefault: number;
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

/** How committed changes become public events. */
export interface OutboxConfig {
  /** An ETA move smaller than this is not announced (backorder.eta_moved). */
  etaMarginMs: number;
  /** How often the event log is read when no write of this instance pokes the relay. */
  pollMs: number;
}

export const OUTBOX_DEFAULTS: OutboxConfig = { etaMarginMs: 24 * 3_600_000, pollMs: 1000 };

/** What the HTTP edge serves, to whom, and how long it waits for a request. */
export interface EdgeConfig {
  graphiql: boolean;
  /** Serve the storefront example at /demo. */
  demo: boolean;
  /** Introspection answered to every caller; false: to staff only. */
  introspection: boolean;
  /** "Did you mean" suggestions in error messages for every caller; false: for staff only. */
  suggestions: boolean;
  /** Browser origins allowed to call, with credentials; null: any origin, never with credentials. */
  corsOrigins: readonly string[] | null;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}

/** Which bearer tokens are accepted beyond a good signature. */
export interface TokenConfig {
  /** Longest lifetime, counted from `iat` (from now without one). */
  maxLifetimeSeconds: number;
  issuer: string | undefined;
  audience: string | undefined;
}

/** Production keeps the shape of the schema to staff and serves no GraphiQL; development shows all. */
export function edgeDefaults(production: boolean): EdgeConfig {
  return {
    graphiql: !production,
    demo: !production,
    introspection: !production,
    suggestions: !production,
    corsOrigins: null,
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
  };
}

export const TOKEN_DEFAULTS: TokenConfig = {
  maxLifetimeSeconds: 30 * 86_400,
  issuer: undefined,
  audience: undefined,
};

export class ConfigError extends Error {}

const MIN_SECRET_LENGTH = 32;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** `*` or nothing: any origin. Otherwise exact origins (scheme, host, port), comma-separated. */
function origins(env: NodeJS.ProcessEnv, name: string): readonly string[] | null {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '' || raw === '*') return null;
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {}
    if (parsed !== origin || !/^https?:\/\//.test(origin)) {
      throw new ConfigError(
        `${name} must be * or a comma-separated list of origins like https://shop.example, got "${origin}"`,
      );
    }
    return origin;
  });
}

function edge(env: NodeJS.ProcessEnv, production: boolean): EdgeConfig {
  const defaults = edgeDefaults(production);
  const requestTimeoutMs = int(env, 'HTTP_REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, 1000, 600_000);
  const headersTimeoutMs = int(env, 'HTTP_HEADERS_TIMEOUT_MS', defaults.headersTimeoutMs, 1000, 600_000);
  // Node refuses a server whose headers may take longer than the whole request.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  }
  return {
    graphiql: bool(env, 'GRAPHIQL', defaults.graphiql),
    demo: bool(env, 'DEMO', defaults.demo),
    introspection: bool(env, 'INTROSPECTION', defaults.introspection),
    suggestions: bool(env, 'SUGGESTIONS', defaults.suggestions),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    requestTimeoutMs,
    headersTimeoutMs,
  };
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  if (value && value.length > 255) throw new ConfigError(`${name} must be at most 255 characters`);
  return value || undefined;
}

/** Environment to typed config. Fails fast, naming the variable, rather than starting half-configured. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  let jwtSecret = env.JWT_SECRET ?? '';
  let jwtSecretGenerated = false;
  if (jwtSecret.length < MIN_SECRET_LENGTH) {
    if (production) {
      throw new ConfigError(
        jwtSecret
          ? `JWT_SECRET is too short: use at least ${MIN_SECRET_LENGTH} characters`
          : 'JWT_SECRET is required in production (at least 32 characters)',
      );
    }
    if (jwtSecret) throw new ConfigError(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    jwtSecret = randomBytes(32).toString('base64url');
    jwtSecretGenerated = true;
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// connection string');
  }
  return {
    production,
    host: env.HOST || undefined,
    port: int(env, 'PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    embeddedPort: int(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535),
    jwtSecret,
    jwtSecretGenerated,
    seedDemo: bool(env, 'SEED_DEMO', true),
    pool: {
      max: int(env, 'DB_POOL_MAX', 20, 1, 500),
      connectionTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 3_600_000),
    },
    mergeWindowMs: int(env, 'LIVE_MERGE_WINDOW_MS', 100, 0, 10_000),
    // 0 turns the default off; otherwise the range of a product's own maxPerCustomer.
    maxPerCustomerDefault: int(env, 'MAX_PER_CUSTOMER_DEFAULT', MAX_PER_CUSTOMER_DEFAULT, 0, 1_000_000),
    outbox: {
      etaMarginMs:
        int(env, 'ETA_MOVED_MARGIN_MINUTES', OUTBOX_DEFAULTS.etaMarginMs / 60_000, 1, 525_600) * 60_000,
      pollMs: int(env, 'OUTBOX_POLL_MS', OUTBOX_DEFAULTS.pollMs, 50, 60_000),
    },
    edge: edge(env, production),
    tokens: {
      maxLifetimeSeconds: int(
        env,
        'JWT_MAX_LIFETIME_SECONDS',
        TOKEN_DEFAULTS.maxLifetimeSeconds,
        60,
        366 * 86_400,
      ),
      issuer: optional(env, 'JWT_ISSUER'),
      audience: optional(env, 'JWT_AUDIENCE'),
    },
    documentLimits: {
      depth: int(env, 'MAX_DEPTH', DEFAULT_DOCUMENT_LIMITS.depth, 1, 100),
      aliases: int(env, 'MAX_ALIASES', DEFAULT_DOCUMENT_LIMITS.aliases, 0, 1000),
      tokens: int(env, 'MAX_TOKENS', DEFAULT_DOCUMENT_LIMITS.tokens, 100, MAX_TOKENS_SETTING),
      directives: int(env, 'MAX_DIRECTIVES', DEFAULT_DOCUMENT_LIMITS.directives, 0, 1000),
    },
    costBudgets: {
      anonymous: int(env, 'COST_BUDGET_ANONYMOUS', DEFAULT_COST_BUDGETS.anonymous, 1, 1_000_000_000),
      customer: int(env, 'COST_BUDGET_CUSTOMER', DEFAULT_COST_BUDGETS.customer, 1, 1_000_000_000),
      staff: int(env, 'COST_BUDGET_STAFF', DEFAULT_COST_BUDGETS.staff, 1, 1_000_000_000),
    },
    ops: opsSettings(env, production, { int, bool, fail: (message) => new ConfigError(message) }),
    webhooks: webhookSettings(env, production, { int, bool, fail: (message) => new ConfigError(message) }),
    alerts: {
      maxPerCustomer: int(env, 'MAX_ALERTS_PER_CUSTOMER', ALERT_DEFAULTS.maxPerCustomer, 1, 100_000),
      retentionMs:
        int(env, 'ALERT_RETENTION_DAYS', ALERT_DEFAULTS.retentionMs / 86_400_000, 1, 3650) * 86_400_000,
    },
    abuse: loadAbuseLimits({
      int: (name, fallback, min, max) => int(env, name, fallback, min, max),
      bool: (name, fallback) => bool(env, name, fallback),
      text: (name) => env[name],
      fail: (message) => new ConfigError(message),
    }),
  };
}
