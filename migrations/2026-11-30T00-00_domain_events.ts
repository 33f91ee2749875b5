import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// Every write records what happened as typed events, in its own transaction: one row per event, with the
// products it touched. This log replaces the bare list of changed products that live updates read; the
// same sequence orders both.
//
// A queue fill records one event for the whole fill. Each backorder it served remembers the fill (the
// ALLOCATION movement's id), so the event can be expanded per backorder later, exactly.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE domain_event (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      type text NOT NULL,
      product_ids bigint[] NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    DROP TABLE product_change;

    ALTER TABLE backorder ADD COLUMN last_fill bigint;
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
