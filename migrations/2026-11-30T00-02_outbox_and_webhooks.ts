import { type Kysely, sql } from 'kysely';

// Frozen in time: this file describes the database as it was on its date and never imports app code.
//
// The shop's other systems hear of changes through webhooks. Every write already records its domain events
// in its own transaction (domain_event); a relay turns them, after commit and in order, into public events
// with the full state of what they are about (outbox_event, immutable: every retry sends the same bytes),
// and queues one delivery per subscribed endpoint. Workers on any instance claim due deliveries with
// FOR UPDATE SKIP LOCKED.

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the database as it was, untyped
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    -- How far the relay has read domain_event. One row; whoever holds its lock relays.
    CREATE TABLE outbox_cursor (
      name text PRIMARY KEY,
      seq bigint NOT NULL
    );
    INSERT INTO outbox_cursor (name, seq) SELECT 'webhooks', coalesce(max(seq), 0) FROM domain_event;

    CREATE TABLE outbox_event (
      position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- Stable: the same however often, and by whichever instance, the source event is relayed.
      id text NOT NULL UNIQUE,
      type text NOT NULL,
      source_seq bigint NOT NULL,
      -- What the event is about ('backorder:12', 'order:5', 'product:3'): deliveries keep its order.
      subject text NOT NULL,
      -- Per subject, increasing: receivers drop anything older than what they have.
      sequence integer NOT NULL,
      customer_id text,
      product_id bigint,
      -- The exact bytes sent, every time.
      body text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX outbox_event_created ON outbox_event (created_at);

    CREATE TABLE outbox_subject (
      subject text PRIMARY KEY,
      sequence integer NOT NULL
    );

    -- The ETA each queued backorder was last told, so a move is announced once it passes the margin.
    -- Kept as its basis: a shipment's date, or the lead time past planned supply (a number of days from
    -- whenever it is read), so that the clock alone never moves it.
    CREATE TABLE backorder_eta_notice (
      backorder_id bigint PRIMARY KEY,
      eta timestamptz,
      lead_days integer,
      notified_at timestamptz NOT NULL
    );

    CREATE TABLE webhook_endpoint (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      url text NOT NULL,
      description text,
      event_types text[] NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      secret text NOT NULL,
      -- After a rotation the previous secret signs too, until it expires.
      previous_secret text,
      previous_secret_expires_at timestamptz,
      disabled_reason text,
      failing_since timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE webhook_delivery (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      endpoint_id bigint NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
      event_position bigint NOT NULL REFERENCES outbox_event (position) ON DELETE CASCADE,
      subject text NOT NULL,
      status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      -- A worker's claim: until then no other worker sends it; a worker that dies lets it lapse.
      leased_until timestamptz,
      last_status integer,
      last_error text,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (endpoint_id, event_position)
    );
    CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'PENDING';
    CREATE INDEX webhook_delivery_order ON webhook_delivery (endpoint_id, subject, event_position)
      WHERE status = 'PENDING';
    CREATE INDEX webhook_delivery_status ON webhook_delivery (status, id);
    CREATE INDEX webhook_delivery_event ON webhook_delivery (event_position);

    CREATE TABLE webhook_attempt (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      delivery_id bigint NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
      attempted_at timestamptz NOT NULL DEFAULT now(),
      status integer,
      error text,
      duration_ms integer NOT NULL
    );
    CREATE INDEX webhook_attempt_delivery ON webhook_attempt (delivery_id, id);
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  throw new Error('forward-only: restore from a backup taken before this migration');
}
