import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// A customer who does not want to wait can ask to be told when a product can be bought; the request is
// spent the moment it can (in the same transaction that brings the product back). Every event about a
// customer also lands in that customer's notification feed, with its read state.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE availability_request (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id text NOT NULL,
      product_id bigint NOT NULL REFERENCES product (id),
      status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'FULFILLED', 'CANCELLED')),
      created_at timestamptz NOT NULL DEFAULT now(),
      closed_at timestamptz
    );
    -- One open request per customer and product.
    CREATE UNIQUE INDEX availability_request_open ON availability_request (customer_id, product_id)
      WHERE status = 'OPEN';
    CREATE INDEX availability_request_waiting ON availability_request (product_id, id) WHERE status = 'OPEN';

    CREATE TABLE notification (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id text NOT NULL,
      -- The public event it shows (its id outlives the event's retention).
      event_id text NOT NULL UNIQUE,
      type text NOT NULL,
      message text NOT NULL,
      product_id bigint,
      order_id bigint,
      backorder_id bigint,
      created_at timestamptz NOT NULL DEFAULT now(),
      read_at timestamptz
    );
    CREATE INDEX notification_feed ON notification (customer_id, id DESC);
    CREATE INDEX notification_unread ON notification (customer_id, id) WHERE read_at IS NULL;
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
