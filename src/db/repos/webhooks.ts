import { sql } from 'kysely';
import type { PageWindow } from '../../domain/rules/records.ts';
import type { Executor, Write, WriteTx } from '../transaction.ts';
import type { WebhookDeliveryStatusValue } from '../types.ts';
import { keysetPage } from './keyset.ts';

/** Webhook endpoints and deliveries: what staff manage and what the delivery worker claims and settles. */

export interface WebhookEndpointRecord {
  id: number;
  url: string;
  description: string | null;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
}

export interface WebhookDeliveryRecord {
  id: number;
  endpointId: number;
  eventId: string;
  eventType: string;
  subject: string;
  body: string;
  status: WebhookDeliveryStatusValue;
  attempts: number;
  nextAttemptAt: Date;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

const endpointColumns = [
  'id',
  'url',
  'description',
  'event_types as eventTypes',
  'enabled',
  'disabled_reason as disabledReason',
  'failing_since as failingSince',
  'previous_secret_expires_at as previousSecretExpiresAt',
  'created_at as createdAt',
] as const;

export async function insertEndpoint(
  tx: WriteTx,
  v: { url: string; description: string | null; eventTypes: string[]; enabled: boolean; secret: string },
): Promise<WebhookEndpointRecord> {
  return tx.trx
    .insertInto('webhook_endpoint')
    .values({
      url: v.url,
      description: v.description,
      event_types: v.eventTypes,
      enabled: v.enabled,
      secret: v.secret,
    })
    .returning(endpointColumns)
    .executeTakeFirstOrThrow();
}

export interface EndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: string[];
  enabled?: boolean;
}

/** Applies the patch; enabling clears why the endpoint was disabled and how long it has been failing. */
export async function updateEndpoint(
  tx: WriteTx,
  id: number,
  patch: EndpointPatch,
): Promise<WebhookEndpointRecord | undefined> {
  return tx.trx
    .updateTable('webhook_endpoint')
    .set({
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.eventTypes !== undefined ? { event_types: patch.eventTypes } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
      ...(patch.enabled === true ? { disabled_reason: null, failing_since: null } : {}),
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returning(endpointColumns)
    .executeTakeFirst();
}

/** The current secret becomes the previous one, signing alongside the new one until `overlapMs` from now. */
export async function rotateSecret(
  tx: WriteTx,
  id: number,
  secret: string,
  overlapMs: number,
): Promise<WebhookEndpointRecord | undefined> {
  return tx.trx
    .updateTable('webhook_endpoint')
    .set({
      previous_secret: sql`secret`,
      previous_secret_expires_at: sql`now() + make_interval(secs => ${overlapMs / 1000})`,
      secret,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .returning(endpointColumns)
    .executeTakeFirst();
}

export async function deleteEndpoint(tx: WriteTx, id: number): Promise<boolean> {
  const result = await tx.trx.deleteFrom('webhook_endpoint').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findEndpointsByIds(
  ex: Executor,
  ids: readonly number[],
): Promise<WebhookEndpointRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('webhook_endpoint')
    .select(endpointColumns)
    .where('id', 'in', [...ids])
    .execute();
}

export async function listEndpoints(
  ex: Executor,
  page: PageWindow<number>,
): Promise<WebhookEndpointRecord[]> {
  return ex.selectFrom('webhook_endpoint').select(endpointColumns).$call(keysetPage(page, false)).execute();
}

export async function countEndpoints(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('webhook_endpoint')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

const deliveryColumns = [
  'd.id',
  'd.endpoint_id as endpointId',
  'o.id as eventId',
  'o.type as eventType',
  'd.subject',
  'o.body',
  'd.status',
  'd.attempts',
  'd.next_attempt_at as nextAttemptAt',
  'd.last_status as lastStatus',
  'd.last_error as lastError',
  'd.delivered_at as deliveredAt',
  'd.created_at as createdAt',
] as const;

function deliveries(ex: Executor) {
  return ex
    .selectFrom('webhook_delivery as d')
    .innerJoin('outbox_event as o', 'o.position', 'd.event_position')
    .select(deliveryColumns);
}

export interface DeliveryFilter {
  status: WebhookDeliveryStatusValue | null;
  endpointId: number | null;
}

export async function findDeliveriesByIds(
  ex: Executor,
  ids: readonly number[],
): Promise<WebhookDeliveryRecord[]> {
  if (ids.length === 0) return [];
  return deliveries(ex)
    .where('d.id', 'in', [...ids])
    .execute();
}

/** Newest first. */
export async function listDeliveries(
  ex: Executor,
  filter: DeliveryFilter,
  page: PageWindow<number>,
): Promise<WebhookDeliveryRecord[]> {
  let q = deliveries(ex);
  if (filter.status) q = q.where('d.status', '=', filter.status);
  if (filter.endpointId !== null) q = q.where('d.endpoint_id', '=', filter.endpointId);
  return q.$call(keysetPage(page, true, 'd.id')).execute();
}

export async function countDeliveries(ex: Executor, filter: DeliveryFilter): Promise<number> {
  let q = ex.selectFrom('webhook_delivery as d').select((eb) => eb.fn.countAll<number>().as('n'));
  if (filter.status) q = q.where('d.status', '=', filter.status);
  if (filter.endpointId !== null) q = q.where('d.endpoint_id', '=', filter.endpointId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Back to pending, due now, attempts counted afresh. */
export async function requeueDelivery(
  tx: WriteTx,
  id: number,
): Promise<{ id: number; endpointId: number } | undefined> {
  return tx.trx
    .updateTable('webhook_delivery')
    .set({
      status: 'PENDING',
      attempts: 0,
      next_attempt_at: sql`now()`,
      delivered_at: null,
      last_error: null,
      last_status: null,
    })
    .where('id', '=', id)
    .returning(['id', 'endpoint_id as endpointId'])
    .executeTakeFirst();
}

// ---- The delivery worker ----
//
// Lock order, everywhere: an endpoint's row, then its deliveries' rows, then their attempts. Deleting an
// endpoint takes them in that order (the row, then the cascade); the worker settling an attempt locks the
// endpoint's row first too (markDelivered, markFailed), before it updates the delivery. The claim locks
// deliveries only, and skips what is locked rather than waiting. So no two of them wait for each other in
// a circle (a delete once deadlocked with the worker taking the delivery first, then the endpoint).

/** A claimed delivery with everything needed to send it. */
export interface ClaimedDelivery {
  id: number;
  endpointId: number;
  attempts: number;
  eventId: string;
  body: string;
  url: string;
  secret: string;
  /** Still signing during a rotation's overlap. */
  previousSecret: string | null;
  /** The endpoint's last attempt failed (when claimed): this request counts against the failing share. */
  failing: boolean;
}

export interface ClaimLimits {
  /** Deliveries to claim at most: the instance's free slots. */
  limit: number;
  /** Of those, at most this many to endpoints whose last attempt failed. */
  failingLimit: number;
  /** In flight to one endpoint at most, across instances... */
  endpointConcurrency: number;
  /** ...and to one whose last attempt failed. */
  failingEndpointConcurrency: number;
  leaseMs: number;
}

/**
 * Claims due deliveries for `leaseMs`, fairly across endpoints, in one statement (one short transaction).
 *
 * - Sendable: the first pending delivery of its subject to its endpoint (no earlier one still pending, so a
 *   subject's events arrive in order; a dead one no longer holds the others back), due, not leased, to an
 *   enabled endpoint. Deliveries waiting behind one being retried or in flight are no one's turn.
 * - Each endpoint's sendable deliveries take turns: its k-th oldest has turn k plus what the endpoint has
 *   in flight on any instance, and only turns up to the endpoint's cap are kept (`failingEndpointConcurrency`
 *   when its last attempt failed, else `endpointConcurrency`). Deliveries go by turn, then by age: one per
 *   endpoint first, whoever has fewest in flight first, the oldest event first among equals.
 * - Of them, those to failing endpoints at most `failingLimit`; all at most `limit`. Whatever one endpoint
 *   or the failing ones do not take goes to the next in line.
 *
 * Locks: the chosen webhook_delivery rows only (FOR UPDATE SKIP LOCKED, then updated): a row another
 * worker is claiming is skipped, not waited for; endpoints, events and other deliveries are only read. A
 * lease that lapsed (its worker died) can be claimed again.
 */
export async function claimDue(write: Write, limits: ClaimLimits): Promise<ClaimedDelivery[]> {
  if (limits.limit <= 0) return [];
  const failingCap = Math.min(limits.failingEndpointConcurrency, limits.endpointConcurrency);
  const { rows } = await sql<ClaimedDelivery>`
    WITH endpoint AS (
      SELECT e.id, e.failing_since IS NOT NULL AS failing, coalesce(l.n, 0) AS in_flight
      FROM webhook_endpoint e
      LEFT JOIN (
        SELECT b.endpoint_id, count(*)::int AS n FROM webhook_delivery b
        WHERE b.status = 'PENDING' AND b.leased_until > now()
        GROUP BY b.endpoint_id
      ) l ON l.endpoint_id = e.id
      WHERE e.enabled
    ), head AS (
      -- The first pending delivery of each subject to each endpoint (one pass over webhook_delivery_order).
      SELECT DISTINCT ON (h.endpoint_id, h.subject)
        h.id, h.endpoint_id, h.event_position, h.next_attempt_at, h.leased_until
      FROM webhook_delivery h
      WHERE h.status = 'PENDING'
      ORDER BY h.endpoint_id, h.subject, h.event_position
    ), sendable AS (
      SELECT c.id, c.event_position, ep.failing,
        ep.in_flight + row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.event_position) AS turn,
        CASE WHEN ep.failing THEN ${failingCap}::int ELSE ${limits.endpointConcurrency}::int END AS cap
      FROM head c
      JOIN endpoint ep ON ep.id = c.endpoint_id
      WHERE c.next_attempt_at <= now() AND (c.leased_until IS NULL OR c.leased_until <= now())
    ), in_line AS (
      SELECT s.id, s.failing, s.turn, s.event_position,
        row_number() OVER (PARTITION BY s.failing ORDER BY s.turn, s.event_position, s.id) AS nth_of_kind
      FROM sendable s
      WHERE s.turn <= s.cap
    ), chosen AS (
      SELECT i.id FROM in_line i
      WHERE NOT i.failing OR i.nth_of_kind <= ${limits.failingLimit}::int
      ORDER BY i.turn, i.event_position, i.id
      LIMIT ${limits.limit}::int
    ), claimed AS (
      UPDATE webhook_delivery d
      SET leased_until = now() + make_interval(secs => ${limits.leaseMs / 1000})
      WHERE d.id IN (
        SELECT l.id FROM webhook_delivery l
        WHERE l.id IN (SELECT id FROM chosen) AND l.status = 'PENDING'
          AND (l.leased_until IS NULL OR l.leased_until <= now())
        FOR UPDATE SKIP LOCKED)
      RETURNING d.id, d.endpoint_id, d.event_position, d.attempts
    )
    SELECT c.id, c.endpoint_id AS "endpointId", c.attempts, o.id AS "eventId", o.body, e.url, e.secret,
      CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS "previousSecret",
      e.failing_since IS NOT NULL AS failing
    FROM claimed c
    JOIN outbox_event o ON o.position = c.event_position
    JOIN webhook_endpoint e ON e.id = c.endpoint_id
    ORDER BY c.event_position
  `.execute(write.trx);
  return rows;
}

/** The delivery being settled, and its endpoint (whose row is locked first: see the lock order above). */
export interface Settling {
  id: number;
  endpointId: number;
}

/**
 * A 2xx: delivered; the endpoint is healthy again. The endpoint's row is locked (FOR NO KEY UPDATE) in
 * `locked`, which the delivery's UPDATE filters on, so it is taken before the delivery's row; an endpoint
 * deleted meanwhile leaves nothing to update.
 */
export async function markDelivered(write: Write, d: Settling, status: number): Promise<void> {
  await sql`
    WITH locked AS (
      SELECT w.id FROM webhook_endpoint w WHERE w.id = ${d.endpointId} FOR NO KEY UPDATE
    ), d AS (
      UPDATE webhook_delivery
      SET status = 'DELIVERED', delivered_at = now(), attempts = attempts + 1, last_status = ${status},
        last_error = NULL, leased_until = NULL
      WHERE id = ${d.id} AND status = 'PENDING' AND endpoint_id = (SELECT id FROM locked)
      RETURNING endpoint_id
    )
    UPDATE webhook_endpoint SET failing_since = NULL
    WHERE id IN (SELECT endpoint_id FROM d) AND failing_since IS NOT NULL
  `.execute(write.trx);
}

export interface FailureOutcome {
  dead: boolean;
  /** Set when this failure disabled the endpoint (the caller records it, as a staff update is). */
  disabledReason: string | null;
}

/**
 * A failed attempt: recorded; the delivery waits `retryInMs`, or is dead when `dead`. The endpoint counts
 * as failing from its first failure since its last success, and is disabled once that is `disableAfterMs`
 * ago. Locks as markDelivered does: the endpoint's row first, then the delivery's; the attempt is recorded
 * only for a delivery still there (an endpoint deleted meanwhile took its deliveries with it).
 */
export async function markFailed(
  tx: WriteTx,
  v: Settling & {
    status: number | null;
    error: string;
    durationMs: number;
    dead: boolean;
    retryInMs: number;
    disableAfterMs: number;
  },
): Promise<FailureOutcome> {
  const { rows } = await sql<{ dead: boolean; disabledReason: string | null }>`
    WITH locked AS (
      SELECT w.id, w.enabled FROM webhook_endpoint w WHERE w.id = ${v.endpointId} FOR NO KEY UPDATE
    ), d AS (
      UPDATE webhook_delivery
      SET attempts = attempts + 1, last_status = ${v.status}, last_error = ${v.error}, leased_until = NULL,
        status = CASE WHEN ${v.dead}::boolean THEN 'DEAD' ELSE 'PENDING' END,
        next_attempt_at = now() + make_interval(secs => ${v.retryInMs / 1000})
      WHERE id = ${v.id} AND status = 'PENDING' AND endpoint_id = (SELECT id FROM locked)
      RETURNING id, endpoint_id, status
    ), attempt AS (
      INSERT INTO webhook_attempt (delivery_id, status, error, duration_ms)
      SELECT d.id, ${v.status}::int, ${v.error}::text, ${v.durationMs}::int FROM d
    ), e AS (
      UPDATE webhook_endpoint w
      SET failing_since = coalesce(w.failing_since, now()),
        enabled = w.enabled AND NOT coalesce(w.failing_since < now() - make_interval(secs => ${v.disableAfterMs / 1000}), false),
        disabled_reason = CASE
          WHEN w.enabled AND coalesce(w.failing_since < now() - make_interval(secs => ${v.disableAfterMs / 1000}), false)
          THEN 'Failing since ' || to_char(w.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            || ': ' || ${v.error}
          ELSE w.disabled_reason END
      WHERE w.id IN (SELECT endpoint_id FROM d)
      RETURNING w.enabled, w.disabled_reason
    )
    SELECT coalesce((SELECT status = 'DEAD' FROM d), false) AS dead,
      (SELECT CASE WHEN NOT e.enabled AND l.enabled THEN e.disabled_reason END FROM e, locked l)
        AS "disabledReason"
  `.execute(tx.trx);
  return { dead: rows[0]?.dead ?? false, disabledReason: rows[0]?.disabledReason ?? null };
}

/** Hands deliveries back without counting an attempt (the worker is stopping mid-send). */
export async function releaseLeases(write: Write, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await write.trx
    .updateTable('webhook_delivery')
    .set({ leased_until: null })
    .where('id', 'in', [...ids])
    .where('status', '=', 'PENDING')
    .execute();
}

// ---- Retention ----

/** Deletes up to `batch` deliveries delivered before the cutoff (their attempts go with them). */
export async function pruneDelivered(write: Write, cutoffMs: number, batch: number): Promise<number> {
  const result = await sql`
    DELETE FROM webhook_delivery WHERE id IN (
      SELECT id FROM webhook_delivery
      WHERE status = 'DELIVERED' AND delivered_at < now() - make_interval(secs => ${cutoffMs / 1000})
      ORDER BY id LIMIT ${batch}
      -- Rows an endpoint's delete holds are left to it: waiting for them could close a circle with it.
      FOR UPDATE SKIP LOCKED)
  `.execute(write.trx);
  return Number(result.numAffectedRows ?? 0);
}

/** Deletes up to `batch` events older than the cutoff that no delivery still needs (pending or dead). */
export async function pruneOutbox(write: Write, cutoffMs: number, batch: number): Promise<number> {
  const result = await sql`
    DELETE FROM outbox_event WHERE position IN (
      SELECT o.position FROM outbox_event o
      WHERE o.created_at < now() - make_interval(secs => ${cutoffMs / 1000})
        AND NOT EXISTS (
          SELECT 1 FROM webhook_delivery d WHERE d.event_position = o.position
            AND (d.status <> 'DELIVERED' OR d.delivered_at >= now() - make_interval(secs => ${cutoffMs / 1000})))
      ORDER BY o.created_at LIMIT ${batch})
  `.execute(write.trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Deletes the oldest `batch` change-log rows the relay has read, where older than the cutoff. Returns how
 * many it looked at and deleted; fewer looked at than `batch`, or fewer deleted than looked at, is the end.
 */
export async function pruneChangeLog(
  write: Write,
  cutoffMs: number,
  batch: number,
): Promise<{ seen: number; deleted: number }> {
  const { rows } = await sql<{ seen: number; deleted: number }>`
    WITH oldest AS (
      SELECT seq, created_at FROM domain_event
      WHERE seq <= (SELECT seq FROM outbox_cursor WHERE name = 'webhooks')
      ORDER BY seq LIMIT ${batch}
    ), gone AS (
      DELETE FROM domain_event WHERE seq IN (
        SELECT seq FROM oldest WHERE created_at < now() - make_interval(secs => ${cutoffMs / 1000}))
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM oldest)::int AS seen, (SELECT count(*) FROM gone)::int AS deleted
  `.execute(write.trx);
  return rows[0] ?? { seen: 0, deleted: 0 };
}
