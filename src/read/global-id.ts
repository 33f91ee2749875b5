/** The types whose rows the API shows as nodes. */
export type NodeTypeName =
  | 'Product'
  | 'Order'
  | 'Backorder'
  | 'InboundShipment'
  | 'WebhookEndpoint'
  | 'WebhookDelivery'
  | 'Notification'
  | 'AvailabilityRequest';

/**
 * A row's global id as the API shows it (the relay plugin's encoding: base64 of `Type:id`), so that a
 * webhook receiver can look the same thing up over GraphQL.
 */
export function globalId(type: NodeTypeName, id: number): string {
  return Buffer.from(`${type}:${id}`).toString('base64');
}
