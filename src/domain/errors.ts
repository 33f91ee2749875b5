/**
 * Business errors a user can cause. The schema turns each into a typed member of a mutation's result union;
 * anything else that is thrown is an internal failure and gets masked.
 */
export abstract class UserError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** Also the answer for what exists but is not the caller's: the two must be indistinguishable. */
export class NotFoundError extends UserError {
  constructor(
    readonly what:
      | 'Product'
      | 'InboundShipment'
      | 'Order'
      | 'Backorder'
      | 'WebhookEndpoint'
      | 'WebhookDelivery'
      | 'AvailabilityRequest',
  ) {
    super(`${what} not found`);
  }
}

export class DuplicateSkuError extends UserError {
  constructor(readonly sku: string) {
    super(`A product with sku "${sku}" already exists`);
  }
}

export class StockBelowAllocatedError extends UserError {
  constructor(
    readonly productId: number,
    readonly onHand: number,
    readonly allocated: number,
    readonly delta: number,
  ) {
    super(
      `Adjusting by ${delta} would leave ${onHand + delta} on hand, below the ${allocated} already allocated to orders`,
    );
  }
}

export class InboundClosedError extends UserError {
  constructor(
    readonly inboundId: number,
    readonly status: string,
  ) {
    super(`Inbound shipment is ${status.toLowerCase()} and can no longer change`);
  }
}

export class InboundQuantityError extends UserError {
  constructor(
    readonly inboundId: number,
    readonly quantityReceived: number,
  ) {
    super(`Quantity cannot go below the ${quantityReceived} units already received`);
  }
}

export class InboundProductMismatchError extends UserError {
  constructor(readonly productId: number) {
    super('The inbound shipment belongs to another product');
  }
}

export class InsufficientStockError extends UserError {
  constructor(
    readonly productId: number,
    readonly quantityAvailable: number,
    readonly estimatedAvailableAt: Date | null,
  ) {
    super(`Only ${quantityAvailable} available; accept a backorder to wait for the rest`);
  }
}

export class BackorderNotAllowedError extends UserError {
  constructor(readonly productId: number) {
    super('This product cannot be backordered');
  }
}

export class BackorderLimitError extends UserError {
  constructor(
    readonly productId: number,
    readonly remainingCapacity: number,
  ) {
    super(`Only ${remainingCapacity} more can be backordered`);
  }
}

export class IdempotencyConflictError extends UserError {
  constructor() {
    super('This idempotency key was already used for a different order');
  }
}

export class BackorderNotCancellableError extends UserError {
  constructor(readonly status: string) {
    super(`A ${status.toLowerCase()} backorder cannot be cancelled`);
  }
}

export class NothingToShipError extends UserError {
  constructor() {
    super('The order has no allocated units waiting to ship');
  }
}

/** The order would take the customer past the product's per-customer cap. */
export class CustomerLimitError extends UserError {
  constructor(
    readonly productId: number,
    readonly limit: number,
    readonly remaining: number,
  ) {
    super(`At most ${limit} of this product per customer; ${remaining} more can be ordered`);
  }
}

/** The write would take one of the product's totals past what a count can show (2,147,483,647). */
export class TotalLimitError extends UserError {
  constructor(
    readonly productId: number,
    readonly total: 'ON_HAND' | 'UNITS_ON_BACKORDER' | 'QUEUE_LENGTH',
    readonly limit: number,
    readonly remaining: number,
  ) {
    super(`${total} of this product can grow by at most ${remaining} more (limit ${limit})`);
  }
}

/** The product can be bought now: there is nothing to wait for. */
export class ProductAvailableError extends UserError {
  constructor(
    readonly productId: number,
    readonly quantityAvailable: number,
  ) {
    super(`This product can be bought now: ${quantityAvailable} available`);
  }
}

/** The customer already has as many open back-in-stock requests as one customer may (a setting). */
export class AlertLimitError extends UserError {
  constructor(readonly limit: number) {
    super(`At most ${limit} open back-in-stock requests per customer: withdraw one to ask for another`);
  }
}
