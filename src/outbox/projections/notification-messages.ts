import type { PublicEventType } from '../../domain/rules/public-events.ts';
import { CUSTOMER_EVENT_TYPES } from '../../domain/rules/public-events.ts';
import type { PublicEventDraft } from './public-events.ts';

const dateOf = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 10) : null);

/** What the feed says about an event, in a sentence a storefront can show as it is. */
export function notificationMessage(draft: PublicEventDraft): string {
  const data = draft.data as {
    backorder?: {
      quantity: number;
      quantityAllocated: number;
      queuePosition: number | null;
      estimatedAvailableAt: string | null;
    };
    product?: { name: string };
    previousEstimatedAvailableAt?: string | null;
  };
  const b = data.backorder;
  const eta = dateOf(b?.estimatedAvailableAt);
  switch (draft.type as PublicEventType) {
    case 'backorder.created':
      return `You are number ${b?.queuePosition ?? '?'} in line for ${b?.quantity ?? ''} unit(s)${eta ? `, expected around ${eta}` : ''}.`;
    case 'backorder.partially_allocated':
      return `${b?.quantityAllocated} of your ${b?.quantity} backordered unit(s) are set aside for you.`;
    case 'backorder.allocated':
      return `All ${b?.quantity} backordered unit(s) are yours: your order is ready to ship.`;
    case 'backorder.shipped':
      return `Your ${b?.quantity} backordered unit(s) have shipped.`;
    case 'backorder.cancelled':
      return 'Your backorder was cancelled.';
    case 'backorder.eta_moved':
      return eta
        ? `Your backorder is now expected around ${eta}.`
        : 'The expected date of your backorder changed.';
    case 'order.shipped':
      return 'Your order has shipped.';
    case 'alert.product_available':
      return `${data.product?.name ?? 'A product you asked about'} can be bought now.`;
    default:
      return draft.type;
  }
}

export function isCustomerEvent(draft: PublicEventDraft): boolean {
  return draft.customerId !== null && (CUSTOMER_EVENT_TYPES as readonly string[]).includes(draft.type);
}
