import { type MigrationResultSet, Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import type { Db } from './connect.ts';

/**
 * Applies every pending migration in order; throws naming the failing one. Migrations are imported
 * statically (migrations/index.ts), so the same code runs under tsx, vitest and a bundler.
 * Kysely's migrator takes a lock, so instances starting together apply each migration once.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results }: MigrationResultSet = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    const name = failed ? ` ${failed.migrationName}` : '';
    throw new Error(`migration${name} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The migrations this code knows that the database has not recorded: empty when it is at head. One cheap
 * statement; a database never migrated (no migration table yet) has every migration pending.
 */
export async function pendingMigrations(db: Db): Promise<string[]> {
  let recorded: Set<string>;
  try {
    const { rows } = await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db);
    recorded = new Set(rows.map((r) => r.name));
  } catch (err) {
    if ((err as { code?: string }).code !== '42P01') throw err;
    recorded = new Set();
  }
  return Object.keys(migrations).filter((name) => !recorded.has(name));
}
