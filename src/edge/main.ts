import { configureLog, log } from '../base/log.ts';
import { resolveDatabase } from './app/database.ts';
import { seedDemoCatalogue } from './app/seed.ts';
import { buildApp } from './app/server.ts';
import { createAuthenticator } from './auth/tokens.ts';
import { signDemoTokens } from './http/demo.ts';
import { ConfigError, loadConfig } from './settings/config.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  configureLog(config.log);
  const database = await resolveDatabase(config);
  // Tokens only when the secret was made for this run: printed below, offered to /demo and GraphiQL.
  const auth = createAuthenticator(config.jwtSecret, config.tokens);
  const demoTokens = config.jwtSecretGenerated
    ? await signDemoTokens((actor) => auth.sign(actor))
    : undefined;
  const app = buildApp({ ...config, databaseUrl: database.url, demoTokens });
  const { url } = await app.start(config.port, config.host);
  if (config.seedDemo && (await seedDemoCatalogue(app.writer))) log.info('seeded the demo catalogue');

  log.info(`${config.edge.graphiql ? 'GraphiQL and the API' : 'The API'}: ${url}`);
  if (config.edge.demo) log.info(`Storefront example: ${new URL('/demo/', url)}`);
  if (demoTokens) {
    log.info('no JWT_SECRET set: made one for this run. Tokens valid until restart:');
    log.info(`  staff:    Bearer ${demoTokens.staff}`);
    log.info(`  customer: Bearer ${demoTokens.customer}`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping (at most ${config.ops.shutdownTimeoutMs} ms)`);
    // The stop is bounded by itself; this is the backstop should the process still hang.
    setTimeout(() => process.exit(1), config.ops.shutdownTimeoutMs + 5_000).unref();
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
