/** How the service is run: probes, metrics, shutdown. */
export interface OpsConfig {
  /** Serve /metrics. */
  metrics: boolean;
  /** Serve /metrics on this port only (not on the API's); undefined: on the API's port. */
  metricsPort: number | undefined;
  /** The change listener may be down this long before the instance reports itself unready. */
  listenerGraceMs: number;
  /** The longest a graceful shutdown takes; what is still open then is cut. */
  shutdownTimeoutMs: number;
}

/** Metrics are on outside production; in production they are a choice (METRICS=true). */
export function opsDefaults(production: boolean): OpsConfig {
  return { metrics: !production, metricsPort: undefined, listenerGraceMs: 30_000, shutdownTimeoutMs: 10_000 };
}

/** The log's levels and formats (LOG_LEVEL, LOG_FORMAT). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
