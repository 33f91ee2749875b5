import { markRead } from '../db/repos/notifications.ts';
import type { WriteTx } from '../db/transaction.ts';
import type { Actor } from './types.ts';

/**
 * Marks a customer's notifications read: these (ids of others are ignored, as if they did not exist), or
 * all of them. Returns how many changed.
 */
export async function markNotificationsRead(
  tx: WriteTx,
  customer: Actor,
  which: readonly number[] | 'all',
): Promise<number> {
  const count = await markRead(tx, customer.id, which);
  if (count > 0) tx.record({ type: 'NotificationsRead', customerId: customer.id, count });
  return count;
}
