import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// Every stored event's payload says which shape it has (`v`), so a release reading an event written by a
// newer one, in a shape it does not know, refuses it rather than misreading it. The events already in the
// log are all of the first shape. (`?` and `||` on jsonb: the same on Postgres 15 and 18.)

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`UPDATE domain_event SET payload = payload || '{"v":1}'::jsonb WHERE NOT payload ? 'v'`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
