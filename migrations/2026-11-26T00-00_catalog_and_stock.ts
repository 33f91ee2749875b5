import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE product (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      sku text NOT NULL UNIQUE CHECK (sku ~ '^[A-Za-z0-9._-]{1,64}$'),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
      backorder_policy text NOT NULL DEFAULT 'ALLOW' CHECK (backorder_policy IN ('ALLOW', 'DENY')),
      backorder_limit integer CHECK (backorder_limit >= 0),
      low_stock_threshold integer CHECK (low_stock_threshold >= 0),
      restock_lead_time_days integer CHECK (restock_lead_time_days >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    -- The one row every stock change locks. Queue aggregates live here too so that a checkout can decide
    -- "take, backorder or refuse" from a single locked row.
    CREATE TABLE stock (
      product_id bigint PRIMARY KEY REFERENCES product (id),
      on_hand integer NOT NULL DEFAULT 0,
      allocated integer NOT NULL DEFAULT 0,
      queue_length integer NOT NULL DEFAULT 0,
      units_on_backorder integer NOT NULL DEFAULT 0,
      CHECK (allocated >= 0 AND allocated <= on_hand),
      CHECK (queue_length >= 0 AND units_on_backorder >= 0)
    );

    CREATE TABLE inbound_shipment (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      product_id bigint NOT NULL REFERENCES product (id),
      quantity integer NOT NULL CHECK (quantity > 0),
      quantity_received integer NOT NULL DEFAULT 0 CHECK (quantity_received >= 0),
      expected_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RECEIVED', 'CANCELLED')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX inbound_open ON inbound_shipment (product_id, expected_at, id) WHERE status = 'OPEN';

    -- Append-only ledger. quantity is signed; which counter it moves follows from its kind:
    -- RECEIPT and ADJUSTMENT move on_hand, ALLOCATION and RELEASE move allocated, SHIPMENT moves both.
    CREATE TABLE stock_movement (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      product_id bigint NOT NULL REFERENCES product (id),
      kind text NOT NULL CHECK (kind IN ('RECEIPT', 'ADJUSTMENT', 'ALLOCATION', 'RELEASE', 'SHIPMENT')),
      quantity integer NOT NULL CHECK (quantity <> 0),
      reason text,
      reference text,
      actor text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX stock_movement_product ON stock_movement (product_id, id DESC);

    -- Which products each committed write touched, in commit-independent sequence order. Live updates
    -- read it; it is the durable record that no wake-up signal can lose.
    CREATE TABLE product_change (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      product_id bigint NOT NULL,
      changed_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE product_change, stock_movement, inbound_shipment, stock, product`.execute(db);
}
