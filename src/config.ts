import { randomBytes } from 'node:crypto';
import path from 'node:path';

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
}

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
  };
}
