import { configureLog } from '../../base/log.ts';
import { createDb } from '../../db/connect.ts';
import { migrateToLatest } from '../../db/migrate.ts';
import { resolveDatabase } from '../app/database.ts';
import { loadConfig } from '../settings/config.ts';

/** npm run migrate: applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
const config = loadConfig();
configureLog(config.log);
const database = await resolveDatabase(config);
const { db } = createDb(database.url, { ...config.pool, onError: (err) => console.error(err.message) });
try {
  const applied = await migrateToLatest(db);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await db.destroy();
  await database.stop();
}
