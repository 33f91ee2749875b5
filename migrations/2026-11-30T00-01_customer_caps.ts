import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// A product may cap the units one customer holds (ordered, not yet shipped, less cancelled backorders).
// Checkouts count them under the product's stock lock; only open orders can hold units, so the count
// reads the customer's open orders and, per order, its lines of that product from the index alone.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE product ADD COLUMN max_per_customer integer
      CHECK (max_per_customer BETWEEN 1 AND 1000000);
    CREATE INDEX customer_order_open_by_customer ON customer_order (customer_id, id) WHERE open;
    CREATE INDEX order_line_by_order_product ON order_line (order_id, product_id)
      INCLUDE (quantity, quantity_shipped);
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
