import type { InboundRecord } from '../db/records.ts';

/** When a number of units will be covered: pure, so every reader (queue, checkout, subscriptions) agrees. */

export interface OpenInbound {
  /** Units still to come: quantity minus what was already received against it. */
  remaining: number;
  expectedAt: Date;
}

export function toOpenInbound(i: InboundRecord): OpenInbound {
  return { remaining: Math.max(0, i.quantity - i.quantityReceived), expectedAt: i.expectedAt };
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function ceilToHour(time: Date): Date {
  return new Date(Math.ceil(time.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * The expectedAt of the open shipment (walked by expectedAt) at which `units` are covered; past the
 * planned supply, now + lead time rounded up to the next full hour; null when there is no lead time.
 * `inbound` must be sorted by expectedAt.
 */
export function estimateCoverage(
  units: number,
  inbound: readonly OpenInbound[],
  restockLeadTimeDays: number | null,
  now: Date,
): Date | null {
  let covered = 0;
  for (const shipment of inbound) {
    covered += shipment.remaining;
    if (covered >= units) return shipment.expectedAt;
  }
  if (restockLeadTimeDays === null) return null;
  return ceilToHour(new Date(now.getTime() + restockLeadTimeDays * DAY_MS));
}

/**
 * A queued backorder's ETA: when the units ahead of it plus its own missing units are covered by the open
 * shipments (sorted by expectedAt), or by the lead time past them. Null outside the queue.
 */
export function backorderEta(
  rank: { unitsAhead: number; missing: number } | null,
  restockLeadTimeDays: number | null,
  inbound: readonly InboundRecord[],
  now: Date,
): Date | null {
  if (!rank) return null;
  return estimateCoverage(
    rank.unitsAhead + rank.missing,
    inbound.map(toOpenInbound),
    restockLeadTimeDays,
    now,
  );
}
