import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// Serving a queue now writes only the product's own backorder rows. A line's allocated units are derived
// (units taken at checkout + what its backorder received), and an order keeps one flag, `open` (something
// still waits or remains to ship), changed only by ship and cancel. Fills no longer meet on order rows,
// so writers on different products never wait for each other there.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE order_line RENAME COLUMN quantity_allocated TO quantity_taken;
    UPDATE order_line l SET quantity_taken = l.quantity_taken - b.quantity_allocated
      FROM backorder b WHERE b.order_line_id = l.id;
    ALTER TABLE order_line DROP CONSTRAINT IF EXISTS order_line_check;
    ALTER TABLE order_line ADD CONSTRAINT order_line_units CHECK (
      0 <= quantity_taken AND quantity_taken <= quantity AND 0 <= quantity_shipped AND quantity_shipped <= quantity
    );

    ALTER TABLE customer_order ADD COLUMN open boolean NOT NULL DEFAULT true;
    UPDATE customer_order SET open = (units_waiting > 0 OR units_to_ship > 0);
    DROP INDEX customer_order_by_status;
    ALTER TABLE customer_order DROP COLUMN status, DROP COLUMN units_waiting, DROP COLUMN units_to_ship,
      DROP COLUMN units_shipped;
    CREATE INDEX customer_order_open ON customer_order (id) WHERE open;

    CREATE INDEX backorder_queued_by_order ON backorder (order_id) WHERE status IN ('WAITING', 'PARTIALLY_ALLOCATED');

    -- Room on each page for updates in place (HOT) of rows that change after insert.
    ALTER TABLE order_line SET (fillfactor = 85);
    ALTER TABLE customer_order SET (fillfactor = 85);
    ALTER TABLE backorder SET (fillfactor = 85);
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
