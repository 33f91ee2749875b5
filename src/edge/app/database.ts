import { log } from '../../base/log.ts';
import { startEmbeddedPostgres } from '../../db/embedded.ts';
import type { Config } from '../settings/config.ts';

/** DATABASE_URL when given; otherwise the embedded Postgres under DATA_DIR, created on first use. */
export async function resolveDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'embeddedPort'>,
): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => {} };
  const started = Date.now();
  const server = await startEmbeddedPostgres({
    dataDir: `${config.dataDir}/postgres`,
    port: config.embeddedPort,
    persistent: true,
    // main.ts stops gracefully on SIGTERM, then stops this server: the package must not exit first.
    ownSignals: true,
    onLog: (line) => log.debug(`postgres: ${line.trim()}`),
  });
  log.info(
    `embedded Postgres on port ${config.embeddedPort}, data in ${config.dataDir} (${Date.now() - started} ms)`,
  );
  return { url: server.urlFor('postgres'), stop: server.stop };
}
