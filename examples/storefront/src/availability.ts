/**
 * What the storefront honestly says about a product for a given quantity. The decision is the API's
 * (estimatedAvailableAt(quantity) is null when a backorder for the rest would be refused); this only
 * turns it into words.
 */
export interface AvailabilityFacts {
  status: 'IN_STOCK' | 'LOW_STOCK' | 'BACKORDER' | 'OUT_OF_STOCK';
  quantityAvailable: number;
  backorderable: boolean;
  /** Units that can still be backordered; null: no cap. */
  remainingCapacity?: number | null;
  estimatedAvailableAt?: string | null;
}

export type Verdict =
  | { kind: 'in-stock'; text: string }
  | { kind: 'backorder'; text: string; missing: number; eta: string | null }
  | { kind: 'sold-out'; text: string };

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
}

export function verdict(facts: AvailabilityFacts, quantity: number): Verdict {
  if (facts.quantityAvailable >= quantity) {
    const few = facts.status === 'LOW_STOCK' ? ` (only ${facts.quantityAvailable} left)` : '';
    return { kind: 'in-stock', text: `In stock${few}` };
  }
  if (facts.estimatedAvailableAt) {
    return {
      kind: 'backorder',
      text: `Ships around ${formatDate(facts.estimatedAvailableAt)} if you order now`,
      missing: quantity - facts.quantityAvailable,
      eta: facts.estimatedAvailableAt,
    };
  }
  // Accepted, but with no inbound shipment and no lead time there is no date to promise.
  const missing = quantity - facts.quantityAvailable;
  if (facts.backorderable && (facts.remainingCapacity == null || facts.remainingCapacity >= missing)) {
    return { kind: 'backorder', text: 'On backorder: no delivery date yet', missing, eta: null };
  }
  if (facts.quantityAvailable > 0) {
    return { kind: 'sold-out', text: `Only ${facts.quantityAvailable} in stock, and no backorders for more` };
  }
  return { kind: 'sold-out', text: 'Sold out' };
}

/** A short label for lists: the verdict for one unit. */
export function badge(facts: AvailabilityFacts): Verdict {
  return verdict(facts, 1);
}
