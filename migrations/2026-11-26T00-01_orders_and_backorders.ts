import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- Order status is derived from three unit counters kept in the same transactions that move units.
    CREATE TABLE customer_order (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      customer_id text NOT NULL,
      idempotency_key text NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
      request_hash text NOT NULL,
      units_waiting integer NOT NULL DEFAULT 0 CHECK (units_waiting >= 0),
      units_to_ship integer NOT NULL DEFAULT 0 CHECK (units_to_ship >= 0),
      units_shipped integer NOT NULL DEFAULT 0 CHECK (units_shipped >= 0),
      status text GENERATED ALWAYS AS (
        CASE
          WHEN units_waiting > 0 THEN 'AWAITING_STOCK'
          WHEN units_to_ship > 0 THEN 'READY'
          WHEN units_shipped > 0 THEN 'SHIPPED'
          ELSE 'CANCELLED'
        END
      ) STORED,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (customer_id, idempotency_key)
    );
    CREATE INDEX customer_order_by_customer ON customer_order (customer_id, id DESC);
    CREATE INDEX customer_order_by_status ON customer_order (status, id);

    CREATE TABLE order_line (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES customer_order (id),
      position integer NOT NULL,
      product_id bigint NOT NULL REFERENCES product (id),
      quantity integer NOT NULL CHECK (quantity > 0),
      quantity_allocated integer NOT NULL CHECK (quantity_allocated >= 0),
      quantity_shipped integer NOT NULL DEFAULT 0 CHECK (quantity_shipped >= 0),
      CHECK (quantity_shipped <= quantity_allocated AND quantity_allocated <= quantity),
      UNIQUE (order_id, position)
    );
    CREATE INDEX order_line_product ON order_line (product_id);

    -- Queue order is id order: ids are drawn while the product's stock row is locked.
    CREATE TABLE backorder (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      order_id bigint NOT NULL REFERENCES customer_order (id),
      order_line_id bigint NOT NULL UNIQUE REFERENCES order_line (id),
      product_id bigint NOT NULL REFERENCES product (id),
      customer_id text NOT NULL,
      quantity integer NOT NULL CHECK (quantity > 0),
      quantity_allocated integer NOT NULL DEFAULT 0,
      quantity_shipped integer NOT NULL DEFAULT 0,
      status text NOT NULL DEFAULT 'WAITING'
        CHECK (status IN ('WAITING', 'PARTIALLY_ALLOCATED', 'ALLOCATED', 'SHIPPED', 'CANCELLED')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (0 <= quantity_shipped AND quantity_shipped <= quantity_allocated AND quantity_allocated <= quantity)
    );
    -- The queue: ranking and filling scan only waiting rows, in order, from the index alone.
    CREATE INDEX backorder_queue ON backorder (product_id, id) INCLUDE (quantity, quantity_allocated)
      WHERE status IN ('WAITING', 'PARTIALLY_ALLOCATED');
    CREATE INDEX backorder_by_product_status ON backorder (product_id, status, id);
    CREATE INDEX backorder_by_customer ON backorder (customer_id, id DESC);
    CREATE INDEX backorder_by_order ON backorder (order_id);
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE backorder, order_line, customer_order`.execute(db);
}
