import { sql } from 'kysely';
import type { Executor, WriteTx } from '../transaction.ts';

const CURSOR = 'webhooks';

/**
 * Takes the relay's place in the event log, or null when another instance holds it: one relay at a time
 * keeps each subject's events in order, and the others simply skip their turn.
 */
export async function lockRelayCursor(tx: WriteTx): Promise<number | null> {
  const row = await tx.trx
    .selectFrom('outbox_cursor')
    .select('seq')
    .where('name', '=', CURSOR)
    .forUpdate()
    .skipLocked()
    .executeTakeFirst();
  return row?.seq ?? null;
}

export async function moveRelayCursor(tx: WriteTx, seq: number): Promise<void> {
  await tx.trx.updateTable('outbox_cursor').set({ seq }).where('name', '=', CURSOR).execute();
}

/**
 * Reserves the next sequence numbers of each subject: `counts` says how many events each gets now;
 * returns the last number reserved per subject (its events take the numbers up to it, in order).
 */
export async function reserveSubjectSequences(
  tx: WriteTx,
  counts: ReadonlyMap<string, number>,
): Promise<Map<string, number>> {
  if (counts.size === 0) return new Map();
  const { rows } = await sql<{ subject: string; sequence: number }>`
    INSERT INTO outbox_subject (subject, sequence)
    SELECT * FROM unnest(${[...counts.keys()]}::text[], ${[...counts.values()]}::int[])
    ON CONFLICT (subject) DO UPDATE SET sequence = outbox_subject.sequence + EXCLUDED.sequence
    RETURNING subject, sequence
  `.execute(tx.trx);
  return new Map(rows.map((r) => [r.subject, r.sequence]));
}

export interface NewOutboxEvent {
  id: string;
  type: string;
  sourceSeq: number;
  subject: string;
  sequence: number;
  customerId: string | null;
  productId: number | null;
  body: string;
}

/**
 * Stores public events (an id already stored is skipped: relaying twice changes nothing) and, in the same
 * statement, queues one delivery for each enabled endpoint that subscribes to the event's type.
 * Returns how many deliveries were queued.
 */
export async function insertOutboxEvents(tx: WriteTx, events: readonly NewOutboxEvent[]): Promise<number> {
  let deliveries = 0;
  // A fill can stand for 100,000 events: store them in chunks, in order.
  for (let i = 0; i < events.length; i += 2_000)
    deliveries += await insertChunk(tx, events.slice(i, i + 2_000));
  return deliveries;
}

async function insertChunk(tx: WriteTx, events: readonly NewOutboxEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const json = JSON.stringify(
    events.map((e, n) => ({
      n,
      id: e.id,
      type: e.type,
      source_seq: e.sourceSeq,
      subject: e.subject,
      sequence: e.sequence,
      customer_id: e.customerId,
      product_id: e.productId,
      body: e.body,
    })),
  );
  const { rows } = await sql<{ deliveries: number }>`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${json}::jsonb)
        AS x(n int, id text, type text, source_seq bigint, subject text, sequence int, customer_id text,
             product_id bigint, body text)
    ), stored AS (
      INSERT INTO outbox_event (id, type, source_seq, subject, sequence, customer_id, product_id, body)
      SELECT id, type, source_seq, subject, sequence, customer_id, product_id, body FROM input ORDER BY n
      ON CONFLICT (id) DO NOTHING
      RETURNING position, type, subject
    ), queued AS (
      INSERT INTO webhook_delivery (endpoint_id, event_position, subject)
      SELECT e.id, s.position, s.subject
      FROM stored s JOIN webhook_endpoint e ON e.enabled AND s.type = ANY (e.event_types)
      ORDER BY s.position, e.id
      RETURNING id
    )
    SELECT count(*)::int AS deliveries FROM queued
  `.execute(tx.trx);
  return rows[0]?.deliveries ?? 0;
}

export interface EtaNotice {
  backorderId: number;
  eta: Date | null;
  leadDays: number | null;
  notifiedAt: Date;
}

export async function findEtaNotices(ex: Executor, backorderIds: readonly number[]): Promise<EtaNotice[]> {
  if (backorderIds.length === 0) return [];
  return ex
    .selectFrom('backorder_eta_notice')
    .select(['backorder_id as backorderId', 'eta', 'lead_days as leadDays', 'notified_at as notifiedAt'])
    .where('backorder_id', '=', (eb) => eb.fn.any(eb.val([...backorderIds])))
    .execute();
}

export async function saveEtaNotices(tx: WriteTx, notices: readonly EtaNotice[]): Promise<void> {
  if (notices.length === 0) return;
  const json = JSON.stringify(
    notices.map((n) => ({
      backorder_id: n.backorderId,
      eta: n.eta?.toISOString() ?? null,
      lead_days: n.leadDays,
      notified_at: n.notifiedAt.toISOString(),
    })),
  );
  await sql`
    INSERT INTO backorder_eta_notice (backorder_id, eta, lead_days, notified_at)
    SELECT * FROM jsonb_to_recordset(${json}::jsonb)
      AS x(backorder_id bigint, eta timestamptz, lead_days int, notified_at timestamptz)
    ON CONFLICT (backorder_id) DO UPDATE SET
      eta = EXCLUDED.eta, lead_days = EXCLUDED.lead_days, notified_at = EXCLUDED.notified_at
  `.execute(tx.trx);
}
