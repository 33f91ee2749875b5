import { ALERT_DEFAULTS } from '../../domain/alert-settings.ts';
import { MAX_PER_CUSTOMER_DEFAULT } from '../../domain/rules/stock-rules.ts';
import { WEBHOOK_DEFAULTS } from '../../outbox/webhook-settings.ts';
import { HELD_PRODUCTS_DEFAULT } from '../../read/held-inputs.ts';
import { DEFAULT_ABUSE_LIMITS, DEFAULT_FAILED_AUTH_WHEN_LIMITED } from './abuse-limits.ts';
import { edgeDefaults, OUTBOX_DEFAULTS, TOKEN_DEFAULTS } from './defaults.ts';
import { DEFAULT_COST_BUDGETS, DEFAULT_DOCUMENT_LIMITS, MAX_TOKENS_SETTING } from './document-limits.ts';
import { LOG_FORMATS, LOG_LEVELS, opsDefaults } from './ops-settings.ts';

/**
 * Every setting of the service: its environment variable, default, bounds and meaning, in one list. The
 * reader below is the only code that reads the environment for the service's settings, and the README's
 * configuration table is printed from this list (`npm run settings:table`; a test holds them equal).
 */

export class ConfigError extends Error {}

export type Env = Readonly<Record<string, string | undefined>>;

/** What a default or a check may look at: whether this is production, and the other (whole number) settings. */
interface Reading {
  production: boolean;
  get(name: string): number;
}

interface Setting<T> {
  /** The value when the variable is unset or empty. */
  default: T | ((reading: Reading) => T);
  /** The default as the table shows it, where the value alone would not say it. */
  shown?: string;
  bounds: string;
  /** A whole number's bounds, as numbers. */
  range?: readonly [min: number, max: number];
  meaning: string;
  /** A value that is set (not empty) to what the service uses; fails with a ConfigError naming `name`. */
  parse(raw: string, name: string, fallback: () => T, reading: Reading): T;
  /** A rule between this setting and others: the message when it is broken. */
  check?(value: T, reading: Reading): string | undefined;
}

const fail = (message: string): never => {
  throw new ConfigError(message);
};

const grouped = (n: number) => n.toLocaleString('en-US');

function wholeNumber(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function int(
  min: number,
  max: number,
  fallback: number | ((reading: Reading) => number),
  meaning: string,
  more: Partial<Pick<Setting<number>, 'shown' | 'check'>> = {},
): Setting<number> {
  return {
    default: fallback,
    bounds: `${grouped(min)}..${grouped(max)}`,
    range: [min, max],
    meaning,
    parse: (raw, name) => wholeNumber(raw, name, min, max),
    ...more,
  };
}

function bool(
  fallback: boolean | ((reading: Reading) => boolean),
  meaning: string,
  more: Partial<Pick<Setting<boolean>, 'shown' | 'check'>> = {},
): Setting<boolean> {
  return {
    default: fallback,
    bounds: '`true` or `false`',
    meaning,
    parse(raw, name) {
      const value = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(value)) return true;
      if (['0', 'false', 'no', 'off'].includes(value)) return false;
      return fail(`${name} must be true or false, got "${raw}"`);
    },
    ...more,
  };
}

function choice<const C extends string>(
  choices: readonly C[],
  fallback: C | ((reading: Reading) => C),
  meaning: string,
  shown?: string,
): Setting<C> {
  return {
    default: fallback,
    ...(shown ? { shown } : {}),
    bounds: choices.map((c) => `\`${c}\``).join(', '),
    meaning,
    parse(raw, name) {
      const value = raw.toLowerCase();
      if ((choices as readonly string[]).includes(value)) return value as C;
      return fail(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
    },
  };
}

/** Text that may be left out; at most 255 characters once trimmed. */
function optionalText(meaning: string): Setting<string | undefined> {
  return {
    default: undefined,
    bounds: 'at most 255 characters',
    meaning,
    parse(raw, name) {
      const value = raw.trim();
      if (value.length > 255) fail(`${name} must be at most 255 characters`);
      return value || undefined;
    },
  };
}

/** The production switch, read first: other defaults depend on it. */
const NODE_ENV: Setting<string | undefined> = {
  default: undefined,
  bounds: 'any; only `production` means something',
  meaning:
    '`production` makes `JWT_SECRET` mandatory and turns GraphiQL off, introspection and suggestions to staff only',
  parse: (raw) => raw,
};

const MIN_SECRET_LENGTH = 32;

const edge = edgeDefaults(false);
const ops = opsDefaults(false);
const webhook = WEBHOOK_DEFAULTS;
const abuse = DEFAULT_ABUSE_LIMITS;
const MINUTE = 60_000;
const DAY = 86_400_000;
const offInProduction = '`true`; `false` in production';

export const SETTINGS = {
  NODE_ENV,
  PORT: int(0, 65535, 4000, 'HTTP and WebSocket port; GraphQL at `/graphql`'),
  HOST: {
    default: undefined,
    shown: 'all interfaces',
    bounds: 'an address',
    meaning: 'address to listen on',
    parse: (raw) => raw,
  } satisfies Setting<string | undefined>,
  DATABASE_URL: {
    default: undefined,
    bounds: '`postgres://…`',
    meaning: '`postgres://…` of any Postgres (15 or later). Unset: the embedded Postgres',
    parse: (raw) =>
      /^postgres(ql)?:\/\//.test(raw) ? raw : fail('DATABASE_URL must be a postgres:// connection string'),
  } satisfies Setting<string | undefined>,
  DATA_DIR: {
    default: '.data',
    bounds: 'a directory',
    meaning: 'where the embedded Postgres keeps its data',
    parse: (raw) => raw,
  } satisfies Setting<string>,
  EMBEDDED_PG_PORT: int(1, 65535, 54329, 'port of the embedded Postgres (5432 is often taken)'),
  JWT_SECRET: {
    default: ({ production }) =>
      production ? fail('JWT_SECRET is required in production (at least 32 characters)') : undefined,
    shown: 'made per run outside production',
    bounds: `at least ${MIN_SECRET_LENGTH} characters`,
    meaning: 'HS256 secret; required when `NODE_ENV=production`',
    parse(raw, _name, _fallback, { production }) {
      if (raw.length >= MIN_SECRET_LENGTH) return raw;
      return production
        ? fail(`JWT_SECRET is too short: use at least ${MIN_SECRET_LENGTH} characters`)
        : fail(`JWT_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
    },
  } satisfies Setting<string | undefined>,
  SEED_DEMO: bool(true, 'seed the demo catalogue into an empty database'),
  DB_POOL_MAX: int(1, 500, 20, 'connections in the pool'),
  DB_CONNECT_TIMEOUT_MS: int(100, 600_000, 5000, 'wait for a pool connection before the request fails'),
  DB_STATEMENT_TIMEOUT_MS: int(
    100,
    3_600_000,
    10_000,
    'longest statement; idle-in-transaction sessions are cut at twice this',
  ),
  READ_CACHE_PRODUCTS: int(
    0,
    1_000_000,
    HELD_PRODUCTS_DEFAULT,
    'products whose availability inputs (product, stock, open inbound) each instance holds in memory, dropped per product by the change feed; the least recently used go first; 0: off',
  ),
  LIVE_MERGE_WINDOW_MS: int(
    0,
    10_000,
    100,
    'live updates: at most one recomputation per product and message per subscription in this window',
  ),
  LOG_LEVEL: choice(LOG_LEVELS, 'info', 'how much the log says'),
  LOG_FORMAT: choice(
    LOG_FORMATS,
    ({ production }) => (production ? 'json' : 'pretty'),
    '`json`: one JSON object a line (pino); `pretty`: plain lines for a terminal',
    '`json` in production, else `pretty`',
  ),
  METRICS: bool(({ production }) => opsDefaults(production).metrics, 'serve `/metrics` (Prometheus)', {
    shown: offInProduction,
  }),
  METRICS_PORT: {
    default: undefined,
    bounds: '1..65,535',
    meaning: "serve `/metrics` (and the probes) on this port instead of the API's",
    parse: (raw, name) => wholeNumber(raw, name, 1, 65535),
  } satisfies Setting<number | undefined>,
  READY_LISTENER_GRACE_MS: int(
    0,
    3_600_000,
    ops.listenerGraceMs,
    'how long the change listener may be down before `/ready` answers 503 (the 500 ms poll delivers meanwhile)',
  ),
  SHUTDOWN_TIMEOUT_MS: int(
    1000,
    600_000,
    ops.shutdownTimeoutMs,
    'longest graceful stop after `SIGTERM`; what still runs then is cut',
  ),
  COST_BUDGET_ANONYMOUS: int(
    1,
    1_000_000_000,
    DEFAULT_COST_BUDGETS.anonymous,
    'largest estimated cost of one operation from a caller without a token',
  ),
  COST_BUDGET_CUSTOMER: int(1, 1_000_000_000, DEFAULT_COST_BUDGETS.customer, 'the same for a customer'),
  COST_BUDGET_STAFF: int(1, 1_000_000_000, DEFAULT_COST_BUDGETS.staff, 'the same for staff'),
  MAX_DEPTH: int(
    1,
    100,
    DEFAULT_DOCUMENT_LIMITS.depth,
    'deepest selection of a document (introspection exempt)',
  ),
  MAX_ALIASES: int(
    0,
    1000,
    DEFAULT_DOCUMENT_LIMITS.aliases,
    'aliased fields in a document (aliases of `__typename` count)',
  ),
  MAX_TOKENS: int(
    100,
    MAX_TOKENS_SETTING,
    DEFAULT_DOCUMENT_LIMITS.tokens,
    'tokens of a document (more than 2,000 would allow nesting deep enough to exhaust the stack)',
  ),
  MAX_DIRECTIVES: int(0, 1000, DEFAULT_DOCUMENT_LIMITS.directives, 'directives in a document'),
  GRAPHIQL: bool(({ production }) => edgeDefaults(production).graphiql, 'serve GraphiQL at `/graphql`', {
    shown: offInProduction,
  }),
  DEMO: bool(
    ({ production }) => edgeDefaults(production).demo,
    'serve the storefront example at `/demo/` (built by `npm install`)',
    { shown: offInProduction },
  ),
  INTROSPECTION: bool(
    ({ production }) => edgeDefaults(production).introspection,
    'introspection for every caller; `false`: staff only',
    { shown: offInProduction },
  ),
  SUGGESTIONS: bool(
    ({ production }) => edgeDefaults(production).suggestions,
    '"Did you mean …" in error messages for every caller; `false`: staff only',
    { shown: offInProduction },
  ),
  CORS_ORIGINS: {
    default: null,
    shown: '`*`',
    bounds: '`*`, or origins separated by commas',
    meaning:
      'browser origins allowed to call, with credentials (`https://shop.example,https://admin.example`); `*`: any origin, without credentials',
    parse(raw, name) {
      const value = raw.trim();
      if (value === '' || value === '*') return null;
      return value.split(',').map((entry) => {
        const origin = entry.trim();
        let parsed: string | undefined;
        try {
          parsed = new URL(origin).origin;
        } catch {}
        if (parsed !== origin || !/^https?:\/\//.test(origin)) {
          fail(
            `${name} must be * or a comma-separated list of origins like https://shop.example, got "${origin}"`,
          );
        }
        return origin;
      });
    },
  } satisfies Setting<readonly string[] | null>,
  HTTP_REQUEST_TIMEOUT_MS: int(
    1000,
    600_000,
    edge.requestTimeoutMs,
    'longest time to receive a whole request, body included (408 after)',
  ),
  HTTP_HEADERS_TIMEOUT_MS: int(
    1000,
    600_000,
    edge.headersTimeoutMs,
    "longest time to receive a request's headers; at most `HTTP_REQUEST_TIMEOUT_MS`",
    {
      // Node refuses a server whose headers may take longer than the whole request.
      check: (value, { get }) =>
        value > get('HTTP_REQUEST_TIMEOUT_MS')
          ? 'HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS'
          : undefined,
    },
  ),
  JWT_MAX_LIFETIME_SECONDS: int(
    60,
    366 * 86_400,
    TOKEN_DEFAULTS.maxLifetimeSeconds,
    'longest token lifetime accepted, from its `iat` (from now without one)',
    { shown: '`2592000` (30 days)' },
  ),
  JWT_ISSUER: optionalText('when set, tokens must carry this `iss` (and `npm run token` writes it)'),
  JWT_AUDIENCE: optionalText('when set, tokens must carry this `aud` (and `npm run token` writes it)'),
  MAX_PER_CUSTOMER_DEFAULT: int(
    0,
    1_000_000,
    MAX_PER_CUSTOMER_DEFAULT,
    'units one customer may hold of a product without a `maxPerCustomer` of its own; 0: no cap for such products. See [Abuse limits](docs/security.md#abuse-limits)',
  ),
  ETA_MOVED_MARGIN_MINUTES: int(
    1,
    525_600,
    OUTBOX_DEFAULTS.etaMarginMs / MINUTE,
    'smallest ETA move announced as `backorder.eta_moved`',
  ),
  OUTBOX_POLL_MS: int(
    50,
    60_000,
    OUTBOX_DEFAULTS.pollMs,
    "how often an instance looks for other instances' events to relay (its own are relayed at once)",
  ),
  REDIS_URL: {
    default: undefined,
    bounds: '`redis://…` or `rediss://…`',
    meaning: '`redis://…`: rate limits counted in Redis, shared by every instance; unset: in memory',
    parse: (raw) => {
      const value = raw.trim();
      if (value && !/^rediss?:\/\/[^\s]+$/.test(value)) fail('REDIS_URL must be a redis:// or rediss:// URL');
      return value || undefined;
    },
  } satisfies Setting<string | undefined>,
  REDIS_KEY_PREFIX: {
    default: abuse.rate.keyPrefix,
    bounds: 'text',
    meaning: "prefix of the rate limits' keys in Redis",
    parse: (raw, _name, fallback) => raw.trim() || fallback(),
  } satisfies Setting<string>,
  TRUST_PROXY_HOPS: int(
    0,
    10,
    abuse.rate.trustProxyHops,
    'proxies in front whose `X-Forwarded-For` entries are believed',
  ),
  RATE_LIMIT_CUSTOMER: int(
    0,
    1_000_000,
    abuse.rate.customer,
    'operations a customer may send per window; 0: off. See [Abuse limits](docs/security.md#abuse-limits)',
    { shown: '`0` (off)' },
  ),
  RATE_LIMIT_ANONYMOUS: int(
    0,
    1_000_000,
    abuse.rate.anonymous,
    'requests per window from one address (IPv6 by /64), whoever sends them: every HTTP request, WebSocket connection and WebSocket operation, counted before any token or body is read (the name is from when only callers without a token were counted); 0: off',
    { shown: '`0` (off)' },
  ),
  RATE_LIMIT_FAILED_AUTH: int(
    0,
    1_000_000,
    // A shop that turns rate limits on gets the guard against token guessing with them.
    ({ get }) =>
      get('RATE_LIMIT_CUSTOMER') > 0 || get('RATE_LIMIT_ANONYMOUS') > 0
        ? DEFAULT_FAILED_AUTH_WHEN_LIMITED
        : abuse.rate.failedAuth,
    'refused credentials per window from one address; past them its requests with a credential are refused unread; 0: off',
    { shown: '`10` once another rate limit is on, else `0` (off)' },
  ),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400, abuse.rate.windowSeconds, "the rate limits' window"),
  MAX_SUBSCRIPTIONS_PER_SOCKET: int(
    1,
    10_000,
    abuse.connections.subscriptionsPerSocket,
    'operations open at once on one WebSocket',
  ),
  MAX_SOCKETS_PER_CALLER: int(
    1,
    10_000,
    abuse.connections.socketsPerCaller,
    'WebSockets open at once per caller (token subject, or address)',
  ),
  MAX_STREAMS_PER_CALLER: int(
    1,
    10_000,
    abuse.connections.streamsPerCaller,
    'Server-Sent Event streams open at once per caller',
  ),
  MAX_OPEN_CONNECTIONS: int(
    1,
    1_000_000,
    abuse.connections.openConnections,
    'TCP connections open at once on the port',
  ),
  MAX_CONNECTIONS_PER_ADDRESS: int(
    0,
    1_000_000,
    abuse.connections.connectionsPerAddress,
    'TCP connections open at once from one peer address (IPv6 by /64), counted at accept, so never by `X-Forwarded-For`: off behind a proxy (refused with `TRUST_PROXY_HOPS` above 0); 0: off',
    {
      shown: '`0` (off)',
      // A connection is counted when accepted, before any header, by its peer: behind a proxy that is the
      // proxy, and every client behind it would share one address's connections.
      check: (value, { get }) =>
        value > 0 && get('TRUST_PROXY_HOPS') > 0
          ? 'MAX_CONNECTIONS_PER_ADDRESS counts the peer of a connection, which behind TRUST_PROXY_HOPS proxies is a proxy: leave it 0 (off) there'
          : undefined,
    },
  ),
  ADMISSION_CONTROL: bool(abuse.admission.enabled, 'run expensive operations by estimated cost in flight'),
  ADMISSION_COST_IN_FLIGHT: int(
    1,
    1_000_000_000,
    abuse.admission.costInFlight,
    'estimated cost running at once, all callers',
  ),
  ADMISSION_COST_PER_CALLER: int(
    1,
    1_000_000_000,
    abuse.admission.costPerCaller,
    'estimated cost running at once, one caller',
  ),
  ADMISSION_FAST_LANE_COST: int(
    0,
    1_000_000_000,
    abuse.admission.fastLaneCost,
    'operations costing at most this never wait',
  ),
  ADMISSION_MAX_WAIT_MS: int(
    1,
    600_000,
    abuse.admission.maxWaitMs,
    'longest wait for a turn before 503 `OVERLOADED`',
  ),
  MAX_ALERTS_PER_CUSTOMER: int(
    1,
    100_000,
    ALERT_DEFAULTS.maxPerCustomer,
    'open back-in-stock requests one customer may have at once; past it `AlertLimitError`',
  ),
  ALERT_RETENTION_DAYS: int(
    1,
    3650,
    ALERT_DEFAULTS.retentionMs / DAY,
    'withdrawn and fired back-in-stock requests are deleted this long after they closed, by the retention job (on instances with `WEBHOOK_WORKER`)',
  ),
  WEBHOOK_WORKER: bool(webhook.worker, 'run the webhook delivery worker and retention in this instance'),
  WEBHOOK_TIMEOUT_MS: int(
    100,
    120_000,
    webhook.timeoutMs,
    'one attempt, from connecting to the end of the answer',
  ),
  WEBHOOK_BACKOFF_BASE_MS: int(
    10,
    3_600_000,
    webhook.backoffBaseMs,
    'wait after the first failure (with jitter)',
  ),
  WEBHOOK_BACKOFF_CAP_MS: int(10, 7 * DAY, webhook.backoffCapMs, 'longest wait between attempts', {
    shown: '`3600000` (1 h)',
    check: (value, { get }) =>
      value < get('WEBHOOK_BACKOFF_BASE_MS')
        ? 'WEBHOOK_BACKOFF_CAP_MS must not be shorter than WEBHOOK_BACKOFF_BASE_MS'
        : undefined,
  }),
  WEBHOOK_MAX_ATTEMPTS: int(
    1,
    100,
    webhook.maxAttempts,
    'attempts before a delivery is dead (the waits add up to 2.7 to 5.4 hours with the defaults)',
  ),
  WEBHOOK_CONCURRENCY: int(
    1,
    1000,
    webhook.concurrency,
    'requests in flight from one instance; those to failing endpoints together at most half of it (rounded down, at least 1)',
  ),
  WEBHOOK_ENDPOINT_CONCURRENCY: int(
    1,
    100,
    webhook.endpointConcurrency,
    'requests in flight to one endpoint, across instances',
  ),
  WEBHOOK_FAILING_ENDPOINT_CONCURRENCY: int(
    1,
    100,
    webhook.failingEndpointConcurrency,
    'the same for an endpoint whose last attempt failed, until its next success; at most `WEBHOOK_ENDPOINT_CONCURRENCY`',
    {
      check: (value, { get }) =>
        value > get('WEBHOOK_ENDPOINT_CONCURRENCY')
          ? 'WEBHOOK_FAILING_ENDPOINT_CONCURRENCY must not be more than WEBHOOK_ENDPOINT_CONCURRENCY'
          : undefined,
    },
  ),
  WEBHOOK_DISABLE_AFTER_MINUTES: int(
    1,
    365 * 24 * 60,
    webhook.disableAfterMs / MINUTE,
    'an endpoint failing this long without a success is disabled',
  ),
  WEBHOOK_POLL_MS: int(
    50,
    60_000,
    webhook.pollMs,
    'how often the worker looks for due deliveries without being woken',
  ),
  WEBHOOK_RETENTION_DAYS: int(
    1,
    3650,
    webhook.retentionMs / DAY,
    'how long delivered deliveries, their events and the read change log are kept',
  ),
  WEBHOOK_ALLOW_LOOPBACK: bool(
    webhook.allowLoopback,
    '`http://` endpoints on loopback, and sending to loopback addresses (a receiver on this machine)',
    {
      shown: '`false`; refused in production',
      // Loopback is for a receiver on the developer's machine: never in production.
      check: (value, { production }) =>
        value && production
          ? 'WEBHOOK_ALLOW_LOOPBACK cannot be on in production (NODE_ENV=production)'
          : undefined,
    },
  ),
  WEBHOOK_ALLOW_PRIVATE: bool(
    webhook.allowPrivate,
    'sending to private, link-local, carrier-grade NAT and unique-local addresses',
  ),
} as const;

export type SettingName = keyof typeof SETTINGS;
export type SettingValue<N extends SettingName> = (typeof SETTINGS)[N] extends Setting<infer T> ? T : never;
export type Settings = { [N in SettingName]: SettingValue<N> };

/**
 * The one reader: every setting from the environment, in the list's order, each default and check
 * evaluated once. Fails fast on the first bad value, naming its variable, rather than starting
 * half-configured.
 */
export function readSettings(env: Env = process.env): Settings {
  const values = new Map<SettingName, unknown>();
  const production = env.NODE_ENV === 'production';
  const value = (name: SettingName) => (values.has(name) ? values.get(name) : read(name));
  const reading: Reading = {
    production,
    get(name) {
      const found = name in SETTINGS ? value(name as SettingName) : undefined;
      if (typeof found !== 'number') throw new TypeError(`${name} is not a whole-number setting`);
      return found;
    },
  };
  function read(name: SettingName): unknown {
    const setting = SETTINGS[name] as Setting<unknown>;
    const fallback = () =>
      typeof setting.default === 'function'
        ? (setting.default as (reading: Reading) => unknown)(reading)
        : setting.default;
    const raw = env[name];
    const parsed = raw === undefined || raw === '' ? fallback() : setting.parse(raw, name, fallback, reading);
    values.set(name, parsed);
    return parsed;
  }
  for (const name of Object.keys(SETTINGS) as SettingName[]) value(name);
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name] as Setting<unknown>;
    const problem = setting.check?.(values.get(name), reading);
    if (problem) fail(problem);
  }
  return Object.fromEntries(values) as Settings;
}

/** The README's configuration table: one row per setting, in the list's order. */
export function settingsTable(): string {
  const code = (value: unknown) => (value === undefined || value === null ? 'unset' : `\`${String(value)}\``);
  const rows = (Object.keys(SETTINGS) as SettingName[]).map((name) => {
    const setting = SETTINGS[name] as Setting<unknown>;
    const shown = setting.shown ?? code(typeof setting.default === 'function' ? undefined : setting.default);
    return `| \`${name}\` | ${shown} | ${setting.bounds} | ${setting.meaning} |`;
  });
  return ['| variable | default | bounds | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
