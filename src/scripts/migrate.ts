import { loadConfig } from '../config.ts';
import { resolveDatabase } from '../database.ts';
import { createDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';

/** npm run migrate: applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
const config = loadConfig();
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
