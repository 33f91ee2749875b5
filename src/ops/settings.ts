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

/** How config.ts reads a setting, failing with a message that names it. */
export interface SettingReaders {
  int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number;
  bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean;
  fail(message: string): Error;
}

const CHOICES = {
  LOG_LEVEL: ['debug', 'info', 'warn', 'error', 'silent'],
  LOG_FORMAT: ['json', 'pretty'],
} as const;

/** METRICS, METRICS_PORT, READY_LISTENER_GRACE_MS, SHUTDOWN_TIMEOUT_MS; LOG_LEVEL and LOG_FORMAT checked. */
export function opsSettings(env: NodeJS.ProcessEnv, production: boolean, read: SettingReaders): OpsConfig {
  const defaults = opsDefaults(production);
  // The logger reads these itself (it exists before any config); a bad value still stops the start.
  for (const [name, allowed] of Object.entries(CHOICES)) {
    const raw = env[name]?.toLowerCase();
    if (raw && !(allowed as readonly string[]).includes(raw)) {
      throw read.fail(`${name} must be one of ${allowed.join(', ')}, got "${env[name]}"`);
    }
  }
  return {
    metrics: read.bool(env, 'METRICS', defaults.metrics),
    metricsPort: env.METRICS_PORT ? read.int(env, 'METRICS_PORT', 0, 1, 65535) : undefined,
    listenerGraceMs: read.int(env, 'READY_LISTENER_GRACE_MS', defaults.listenerGraceMs, 0, 3_600_000),
    shutdownTimeoutMs: read.int(env, 'SHUTDOWN_TIMEOUT_MS', defaults.shutdownTimeoutMs, 1000, 600_000),
  };
}
