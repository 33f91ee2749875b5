/** The shapes of the edge's own settings with their defaults: plain data, so code and tests can build a configuration. */

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
