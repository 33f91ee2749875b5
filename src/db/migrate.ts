import { type MigrationResultSet, Migrator } from 'kysely';
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
