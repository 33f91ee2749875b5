import { createAuthenticator } from './auth.ts';
import { ConfigError, loadConfig } from './config.ts';
import { resolveDatabase } from './database.ts';
import { log } from './log.ts';
import { seedDemoCatalogue } from './seed.ts';
import { buildApp } from './server.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await resolveDatabase(config);
  const app = buildApp({ ...config, databaseUrl: database.url });
  const { url } = await app.start(config.port, config.host);
  if (config.seedDemo && (await seedDemoCatalogue(app.writer))) log.info('seeded the demo catalogue');

  log.info(`${config.edge.graphiql ? 'GraphiQL and the API' : 'The API'}: ${url}`);
  if (config.jwtSecretGenerated) {
    const auth = createAuthenticator(config.jwtSecret, config.tokens);
    log.info('no JWT_SECRET set: made one for this run. Tokens valid until restart:');
    log.info(`  staff:    Bearer ${await auth.sign({ id: 'staff-dev', role: 'staff' })}`);
    log.info(`  customer: Bearer ${await auth.sign({ id: 'customer-dev', role: 'customer' })}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    await app.stop();
    await database.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError) log.error(`configuration: ${err.message}`);
  else log.error('could not start', err);
  process.exit(1);
});
