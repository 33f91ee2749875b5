import { randomBytes } from 'node:crypto';
import {
  deleteEndpoint,
  type EndpointPatch,
  insertEndpoint,
  requeueDelivery,
  rotateSecret,
  updateEndpoint,
  type WebhookEndpointRecord,
} from '../db/repos/webhooks.ts';
import type { WriteTx } from '../db/transaction.ts';
import { NotFoundError, UserError } from './errors.ts';
import { type WebhookUrlPolicy, webhookUrlProblem } from './rules/webhook-urls.ts';

/** Staff's webhook endpoints: where the shop's other systems are told what happened. */

export class InvalidWebhookUrlError extends UserError {
  constructor(readonly why: string) {
    super(`This URL cannot receive webhooks: ${why}`);
  }
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

function checkedUrl(url: string, policy: WebhookUrlPolicy): string {
  const problem = webhookUrlProblem(url, policy);
  if (problem) throw new InvalidWebhookUrlError(problem);
  return url;
}

export async function createWebhookEndpoint(
  tx: WriteTx,
  input: { url: string; description: string | null; eventTypes: string[]; enabled: boolean },
  policy: WebhookUrlPolicy,
): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
  const secret = newSecret();
  const endpoint = await insertEndpoint(tx, { ...input, url: checkedUrl(input.url, policy), secret });
  tx.record({ type: 'WebhookEndpointCreated', endpointId: endpoint.id });
  return { endpoint, secret };
}

export async function updateWebhookEndpoint(
  tx: WriteTx,
  id: number,
  patch: EndpointPatch,
  policy: WebhookUrlPolicy,
): Promise<WebhookEndpointRecord> {
  if (patch.url !== undefined) checkedUrl(patch.url, policy);
  const endpoint = await updateEndpoint(tx, id, patch);
  if (!endpoint) throw new NotFoundError('WebhookEndpoint');
  tx.record({ type: 'WebhookEndpointUpdated', endpointId: id, changed: Object.keys(patch).sort() });
  return endpoint;
}

/** A new secret; the previous one keeps signing alongside it for `overlapMs`, so receivers can switch over. */
export async function rotateWebhookSecret(
  tx: WriteTx,
  id: number,
  overlapMs: number,
): Promise<{ endpoint: WebhookEndpointRecord; secret: string }> {
  const secret = newSecret();
  const endpoint = await rotateSecret(tx, id, secret, overlapMs);
  if (!endpoint) throw new NotFoundError('WebhookEndpoint');
  tx.record({
    type: 'WebhookSecretRotated',
    endpointId: id,
    previousExpiresAt: (endpoint.previousSecretExpiresAt ?? new Date()).toISOString(),
  });
  return { endpoint, secret };
}

/** The endpoint and every delivery to it go. */
export async function deleteWebhookEndpoint(tx: WriteTx, id: number): Promise<void> {
  if (!(await deleteEndpoint(tx, id))) throw new NotFoundError('WebhookEndpoint');
  tx.record({ type: 'WebhookEndpointDeleted', endpointId: id });
}

/** Sends a delivery again (a dead letter, or one delivered that a receiver lost): pending, due now. */
export async function redeliverWebhookDelivery(tx: WriteTx, id: number): Promise<number> {
  const delivery = await requeueDelivery(tx, id);
  if (!delivery) throw new NotFoundError('WebhookDelivery');
  tx.record({ type: 'DeliveryRedelivered', deliveryId: id, endpointId: delivery.endpointId });
  return delivery.id;
}
