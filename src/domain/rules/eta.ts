import type { DomainEvent } from './domain-events.ts';

/**
 * What an ETA is computed from, and when one has moved: pure, so every reader (queue, checkout,
 * subscriptions, the relay announcing moves) agrees.
 */

export interface OpenInbound {
  /** Units still to come: quantity minus what was already received against it. */
  remaining: number;
  expectedAt: Date;
}

/** An inbound shipment as its row stores it. */
export interface InboundSupply {
  quantity: number;
  quantityReceived: number;
  expectedAt: Date;
}

export function toOpenInbound(i: InboundSupply): OpenInbound {
  return { remaining: Math.max(0, i.quantity - i.quantityReceived), expectedAt: i.expectedAt };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function ceilToHour(time: Date): Date {
  return new Date(Math.ceil(time.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * What an ETA rests on: the open shipment (walked by expectedAt) at which `units` are covered, or, past
 * the planned supply, the product's lead time from whenever it is read; null when there is no lead time.
 * `inbound` must be sorted by expectedAt.
 */
export type EtaBasis = { at: Date } | { leadDays: number } | null;

export function coverageBasis(
  units: number,
  inbound: readonly OpenInbound[],
  restockLeadTimeDays: number | null,
): EtaBasis {
  let covered = 0;
  for (const shipment of inbound) {
    covered += shipment.remaining;
    if (covered >= units) return { at: shipment.expectedAt };
  }
  return restockLeadTimeDays === null ? null : { leadDays: restockLeadTimeDays };
}

/** The date a basis means now: a shipment's date, or now + lead time rounded up to the next full hour. */
export function etaAt(basis: EtaBasis, now: Date): Date | null {
  if (basis === null) return null;
  if ('at' in basis) return basis.at;
  return ceilToHour(new Date(now.getTime() + basis.leadDays * DAY_MS));
}

export function estimateCoverage(
  units: number,
  inbound: readonly OpenInbound[],
  restockLeadTimeDays: number | null,
  now: Date,
): Date | null {
  return etaAt(coverageBasis(units, inbound, restockLeadTimeDays), now);
}

/**
 * Whether an ETA moved by at least `marginMs` between two bases, both read at the same instant, so that
 * the clock alone never moves one: two lead-time ETAs differ only by their number of days.
 */
export function etaMoved(before: EtaBasis, after: EtaBasis, now: Date, marginMs: number): boolean {
  if (before === null || after === null) return before !== after;
  if ('leadDays' in before && 'leadDays' in after) {
    return Math.abs(before.leadDays - after.leadDays) * DAY_MS >= marginMs;
  }
  return Math.abs(etaAt(before, now)!.getTime() - etaAt(after, now)!.getTime()) >= marginMs;
}

/** A customer hears of a moved ETA at most once an hour per backorder, however often supply shifts. */
export const ETA_NOTICE_INTERVAL_MS = 3_600_000;

/**
 * Whether a backorder's customer is told that its ETA moved: not within the interval of the last notice,
 * and only when the ETA moved by at least `marginMs` since then.
 */
export function etaMoveToTell(
  last: { basis: EtaBasis; notifiedAt: Date },
  now: EtaBasis,
  at: Date,
  marginMs: number,
): boolean {
  if (at.getTime() - last.notifiedAt.getTime() < ETA_NOTICE_INTERVAL_MS) return false;
  return etaMoved(last.basis, now, at, marginMs);
}

/** The product whose queue's ETAs an event can move (its supply, lead time, or who is ahead); else null. */
export function movesEtas(event: DomainEvent): number | null {
  switch (event.type) {
    case 'StockReceived':
    case 'QueueFilled':
    case 'InboundScheduled':
    case 'InboundUpdated':
    case 'InboundCancelled':
    case 'BackorderCancelled':
      return event.productId;
    case 'StockAdjusted':
      return event.delta > 0 ? event.productId : null;
    case 'ProductUpdated':
      return event.changed.includes('restockLeadTimeDays') ? event.productId : null;
    default:
      return null;
  }
}

/**
 * A queued backorder's ETA: when the units ahead of it plus its own missing units are covered by the open
 * shipments (sorted by expectedAt), or by the lead time past them. Null outside the queue.
 */
export function backorderEta(
  rank: { unitsAhead: number; missing: number } | null,
  restockLeadTimeDays: number | null,
  inbound: readonly InboundSupply[],
  now: Date,
): Date | null {
  return etaAt(backorderEtaBasis(rank, restockLeadTimeDays, inbound), now);
}

/** The basis of a queued backorder's ETA; null outside the queue or without supply or lead time. */
export function backorderEtaBasis(
  rank: { unitsAhead: number; missing: number } | null,
  restockLeadTimeDays: number | null,
  inbound: readonly InboundSupply[],
): EtaBasis {
  if (!rank) return null;
  return coverageBasis(rank.unitsAhead + rank.missing, inbound.map(toOpenInbound), restockLeadTimeDays);
}
