import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// Back-in-stock requests are bounded. The open ones a customer may hold are counted from the existing
// index of open requests (customer_id, product_id). A customer asking again for a product they withdrew
// opens that request again rather than writing a row per withdrawal, found by the first index below; and
// withdrawn and fired requests are deleted, oldest first, once older than the retention, by the second.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX availability_request_withdrawn ON availability_request (customer_id, product_id, id)
      WHERE status = 'CANCELLED';
    CREATE INDEX availability_request_closed ON availability_request (closed_at) WHERE status <> 'OPEN';
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
