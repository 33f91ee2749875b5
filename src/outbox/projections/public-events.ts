import type { StoredEvent } from '../../db/repos/changes.ts';
import type { QueueFilled } from '../../domain/rules/domain-events.ts';
import type { PublicEventType } from '../../domain/rules/public-events.ts';
import { fillCompletes } from '../../domain/rules/stock-rules.ts';
import { globalId } from '../../read/global-id.ts';
import type { Readers } from '../../read/readers.ts';
import { expandFill } from './fill-expansion.ts';
import { backorderState, orderState, productState } from './public-state.ts';

/** A public event before it is numbered and stored. */
export interface PublicEventDraft {
  /** Stable: derived from the source event and the subject, never from when it is relayed. */
  id: string;
  type: PublicEventType;
  sourceSeq: number;
  /** What it is about, and the order its deliveries keep: 'backorder:12', 'order:5', 'product:3'. */
  subject: string;
  customerId: string | null;
  productId: number;
  data: Record<string, unknown>;
}

type Subject = ['backorder' | 'order' | 'product' | 'alert', number];

function draft(
  seq: number,
  type: PublicEventType,
  [kind, id]: Subject,
  productId: number,
  customerId: string | null,
  data: Record<string, unknown>,
): PublicEventDraft {
  return {
    id: `evt_${seq}_${type}_${id}`,
    type,
    sourceSeq: seq,
    subject: `${kind}:${id}`,
    customerId,
    productId,
    data,
  };
}

async function backorderEvent(
  readers: Readers,
  seq: number,
  type: PublicEventType,
  backorderId: number,
  productId: number,
  now: Date,
  extra: Record<string, unknown> = {},
): Promise<PublicEventDraft[]> {
  const backorder = await backorderState(readers, backorderId, now);
  if (!backorder) return [];
  return [
    draft(seq, type, ['backorder', backorderId], productId, backorder.customerId, { backorder, ...extra }),
  ];
}

async function fillEvents(readers: Readers, seq: number, event: QueueFilled, now: Date) {
  const served = await expandFill(readers, seq, event);
  const events = await Promise.all(
    served.map((s, i) => {
      const complete = fillCompletes(i, served.length, event);
      const type = complete ? 'backorder.allocated' : 'backorder.partially_allocated';
      return backorderEvent(readers, seq, type, s.backorderId, event.productId, now, {
        unitsAllocatedNow: s.units,
      });
    }),
  );
  return events.flat();
}

/**
 * The public events one domain event stands for, each with the full state of its subject read now (the
 * relay runs right after commit, in order). ETA moves are decided separately, per product, by the relay.
 */
export async function publicEventsOf(
  readers: Readers,
  stored: StoredEvent,
  now: Date,
): Promise<PublicEventDraft[]> {
  const { seq, event } = stored;
  switch (event.type) {
    case 'OrderPlaced': {
      const events = await Promise.all(
        event.backorders.map((b) =>
          backorderEvent(readers, seq, 'backorder.created', b.id, b.productId, now),
        ),
      );
      return events.flat();
    }
    case 'QueueFilled':
      return fillEvents(readers, seq, event, now);
    case 'BackorderCancelled':
      return backorderEvent(readers, seq, 'backorder.cancelled', event.backorderId, event.productId, now, {
        unitsReleased: event.released,
      });
    case 'OrderShipped': {
      const order = await orderState(readers, event.orderId);
      const shipped = await Promise.all(
        event.backorders
          .filter((b) => b.complete)
          .map((b) => backorderEvent(readers, seq, 'backorder.shipped', b.id, b.productId, now)),
      );
      const first = event.shipped[0]?.productId ?? 0;
      return [
        ...(order
          ? [
              draft(seq, 'order.shipped', ['order', event.orderId], first, event.customerId, {
                order,
                shipped: event.shipped.map((s) => ({
                  productId: globalId('Product', s.productId),
                  units: s.units,
                })),
              }),
            ]
          : []),
        ...shipped.flat(),
      ];
    }
    case 'StockLevelCrossed': {
      const product = await productState(readers, event.productId);
      if (!product) return [];
      const type = event.crossing === 'BACK_IN_STOCK' ? 'product.back_in_stock' : 'product.low_stock';
      return [
        draft(seq, type, ['product', event.productId], event.productId, null, {
          product,
          availableBefore: event.availableBefore,
          availableAfter: event.availableAfter,
        }),
      ];
    }
    case 'AvailabilityRequestsFulfilled': {
      const product = await productState(readers, event.productId);
      if (!product) return [];
      return event.requests.map((r) =>
        draft(seq, 'alert.product_available', ['alert', r.id], event.productId, r.customerId, {
          request: { id: globalId('AvailabilityRequest', r.id), status: 'FULFILLED' },
          product,
        }),
      );
    }
    default:
      return [];
  }
}
