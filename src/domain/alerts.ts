import {
  type AvailabilityRequestRecord,
  cancelAvailabilityRequestRow,
  countOpenRequestsOf,
  findOpenRequests,
  fulfilAvailabilityRequests,
  lockCustomerRequests,
  openAvailabilityRequest,
} from '../db/repos/alerts.ts';
import { lockStock } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { AlertLimitError, NotFoundError, ProductAvailableError } from './errors.ts';
import { availableUnits, unitsForNewOrders } from './rules/stock-rules.ts';
import type { Actor } from './types.ts';

/**
 * A customer asks to be told when a product can be bought without waiting. Asking again answers the same
 * open request, whatever the cap. Under the stock lock, so it cannot slip between a receipt and its
 * fulfilment: a product that can be bought now is answered with ProductAvailableError instead. A new request
 * past the customer's `maxOpen` open ones is AlertLimitError, decided under the customer's own lock (taken
 * first, so a customer's requests wait for each other, never while holding a product's stock lock).
 */
export async function notifyWhenAvailable(
  tx: WriteTx,
  customer: Actor,
  productId: number,
  maxOpen: number,
): Promise<AvailabilityRequestRecord> {
  await lockCustomerRequests(tx, customer.id);
  const locked = (await lockStock(tx, [productId])).get(productId);
  if (!locked) throw new NotFoundError('Product');
  if (unitsForNewOrders(locked.stock) > 0) {
    throw new ProductAvailableError(productId, availableUnits(locked.stock));
  }
  const [open] = await findOpenRequests(tx.trx, customer.id, [productId]);
  if (open) return open;
  if ((await countOpenRequestsOf(tx.trx, customer.id, maxOpen)) >= maxOpen)
    throw new AlertLimitError(maxOpen);
  const { request, created } = await openAvailabilityRequest(tx, customer.id, productId);
  if (created)
    tx.record({ type: 'AvailabilityRequested', productId, requestId: request.id, customerId: customer.id });
  return request;
}

export async function cancelAvailabilityRequest(
  tx: WriteTx,
  customer: Actor,
  productId: number,
): Promise<AvailabilityRequestRecord> {
  const request = await cancelAvailabilityRequestRow(tx, customer.id, productId);
  if (!request) throw new NotFoundError('AvailabilityRequest');
  tx.record({
    type: 'AvailabilityRequestCancelled',
    productId,
    requestId: request.id,
    customerId: customer.id,
  });
  return request;
}

/**
 * The product can be bought again (from none available to some, so its queue is empty): every open
 * request is spent now, in the same transaction, so each fires once however many receipts race.
 */
export async function fulfilRequestsOf(tx: WriteTx, productId: number): Promise<void> {
  const requests = await fulfilAvailabilityRequests(tx, productId);
  if (requests.length > 0) tx.record({ type: 'AvailabilityRequestsFulfilled', productId, requests });
}
