import { sql } from 'kysely';
import { type DomainEvent, eventOfPayload } from '../../domain/rules/domain-events.ts';
import type { Executor } from '../transaction.ts';

export interface ChangeRow {
  seq: number;
  productIds: number[];
  /** The event's type: live feeds care about NotificationsAdded too. */
  type: string;
  /** How long ago the change's transaction began, by the database's clock (no skew with ours). */
  ageMs: number;
}

export async function latestEventSeq(ex: Executor): Promise<number> {
  const { rows } = await sql<{ seq: number | null }>`SELECT max(seq) AS seq FROM domain_event`.execute(ex);
  return rows[0]?.seq ?? 0;
}

/** The products each event after `floor` touched, in sequence order: what live updates need. */
export async function readChangesAfter(ex: Executor, floor: number, limit: number): Promise<ChangeRow[]> {
  return ex
    .selectFrom('domain_event')
    .select(['seq', 'product_ids as productIds', 'type'])
    .select(sql<number>`(extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8`.as('ageMs'))
    .where('seq', '>', floor)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export interface StoredEvent {
  seq: number;
  createdAt: Date;
  event: DomainEvent;
}

/**
 * Whole events after `floor`, in sequence order. A payload in a version this release does not know throws
 * (UnknownEventVersionError) rather than being skipped: the reader stops where it is, and nothing is
 * misread or passed over.
 */
export async function readEventsAfter(ex: Executor, floor: number, limit: number): Promise<StoredEvent[]> {
  const rows = await ex
    .selectFrom('domain_event')
    .select(['seq', 'created_at as createdAt', 'payload'])
    .where('seq', '>', floor)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ seq: r.seq, createdAt: r.createdAt, event: eventOfPayload(r.seq, r.payload) }));
}
