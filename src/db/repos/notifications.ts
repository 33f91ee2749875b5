import { sql } from 'kysely';
import type { PageWindow } from '../../domain/rules/records.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import { keysetPage } from './keyset.ts';

export interface NotificationRecord {
  id: number;
  customerId: string;
  eventId: string;
  type: string;
  message: string;
  productId: number | null;
  orderId: number | null;
  backorderId: number | null;
  createdAt: Date;
  readAt: Date | null;
}

const columns = [
  'id',
  'customer_id as customerId',
  'event_id as eventId',
  'type',
  'message',
  'product_id as productId',
  'order_id as orderId',
  'backorder_id as backorderId',
  'created_at as createdAt',
  'read_at as readAt',
] as const;

export type NewNotification = Omit<NotificationRecord, 'id' | 'createdAt' | 'readAt'>;

/** Adds notifications (an event already shown is skipped); returns the range of ids added, if any. */
export async function insertNotifications(
  tx: WriteTx,
  notifications: readonly NewNotification[],
): Promise<{ firstId: number; lastId: number } | null> {
  let firstId: number | null = null;
  let lastId: number | null = null;
  for (let i = 0; i < notifications.length; i += 2_000) {
    const json = JSON.stringify(
      notifications.slice(i, i + 2_000).map((n, k) => ({
        k,
        customer_id: n.customerId,
        event_id: n.eventId,
        type: n.type,
        message: n.message,
        product_id: n.productId,
        order_id: n.orderId,
        backorder_id: n.backorderId,
      })),
    );
    const { rows } = await sql<{ first: number | null; last: number | null }>`
      WITH added AS (
        INSERT INTO notification (customer_id, event_id, type, message, product_id, order_id, backorder_id)
        SELECT customer_id, event_id, type, message, product_id, order_id, backorder_id
        FROM jsonb_to_recordset(${json}::jsonb)
          AS x(k int, customer_id text, event_id text, type text, message text, product_id bigint,
               order_id bigint, backorder_id bigint)
        ORDER BY k
        ON CONFLICT (event_id) DO NOTHING
        RETURNING id
      )
      SELECT min(id) AS first, max(id) AS last FROM added
    `.execute(tx.trx);
    const { first, last } = rows[0] ?? { first: null, last: null };
    if (first !== null && last !== null) {
      firstId ??= first;
      lastId = last;
    }
  }
  return firstId !== null && lastId !== null ? { firstId, lastId } : null;
}

/** A customer's feed, newest first. */
export async function listNotifications(
  ex: Executor,
  customerId: string,
  page: PageWindow<number>,
): Promise<NotificationRecord[]> {
  return ex
    .selectFrom('notification')
    .select(columns)
    .where('customer_id', '=', customerId)
    .$call(keysetPage(page, true))
    .execute();
}

export async function countNotifications(
  ex: Executor,
  customerId: string,
): Promise<{ total: number; unread: number }> {
  const { rows } = await sql<{ total: number; unread: number }>`
    SELECT count(*)::int AS total, (count(*) FILTER (WHERE read_at IS NULL))::int AS unread
    FROM notification WHERE customer_id = ${customerId}
  `.execute(ex);
  return rows[0] ?? { total: 0, unread: 0 };
}

export async function findNotificationsByIds(
  ex: Executor,
  ids: readonly number[],
): Promise<NotificationRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('notification')
    .select(columns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

/** Marks a customer's notifications read (these ids, or all); returns how many changed. */
export async function markRead(
  tx: WriteTx,
  customerId: string,
  ids: readonly number[] | 'all',
): Promise<number> {
  let q = tx.trx
    .updateTable('notification')
    .set({ read_at: new Date() })
    .where('customer_id', '=', customerId)
    .where('read_at', 'is', null);
  if (ids !== 'all') q = q.where('id', '=', (eb) => eb.fn.any(eb.val([...ids])));
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Notifications added after `afterId` for any of these customers, oldest first: what live feeds push. */
export async function notificationsAfter(
  ex: Executor,
  afterId: number,
  customerIds: readonly string[],
): Promise<NotificationRecord[]> {
  if (customerIds.length === 0) return [];
  return ex
    .selectFrom('notification')
    .select(columns)
    .where('id', '>', afterId)
    .where('customer_id', '=', (eb) => eb.fn.any(eb.val([...customerIds])))
    .orderBy('id')
    .limit(10_000)
    .execute();
}

export async function latestNotificationId(ex: Executor): Promise<number> {
  const { rows } = await sql<{ id: number | null }>`SELECT max(id) AS id FROM notification`.execute(ex);
  return rows[0]?.id ?? 0;
}
