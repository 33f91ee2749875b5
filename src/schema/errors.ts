import {
  BackorderLimitError,
  BackorderNotAllowedError,
  BackorderNotCancellableError,
  CustomerLimitError,
  DuplicateSkuError,
  IdempotencyConflictError,
  InboundClosedError,
  InboundProductMismatchError,
  InboundQuantityError,
  InsufficientStockError,
  NotFoundError,
  NothingToShipError,
  StockBelowAllocatedError,
  TotalLimitError,
  type UserError,
} from '../domain/errors.ts';
import { TOTAL_NAMES } from '../domain/rules/stock-rules.ts';
import { builder } from './builder.ts';
import { toGlobalId } from './ids.ts';

/** Every typed error a mutation can answer with implements Error. */
export const ErrorInterface = builder.interfaceRef<UserError>('Error').implement({
  description: 'A business error the caller can act on.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The thing does not exist, or is not yours to see.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(DuplicateSkuError, {
  name: 'DuplicateSkuError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ sku: t.exposeString('sku') }),
});

builder.objectType(StockBelowAllocatedError, {
  name: 'StockBelowAllocatedError',
  description: 'onHand may not drop below the units already promised to orders.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    onHand: t.exposeInt('onHand'),
    allocated: t.exposeInt('allocated'),
  }),
});

builder.objectType(InboundClosedError, {
  name: 'InboundClosedError',
  description: 'The shipment was already received in full or cancelled.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ status: t.exposeString('status') }),
});

builder.objectType(InboundQuantityError, {
  name: 'InboundQuantityError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ quantityReceived: t.exposeInt('quantityReceived') }),
});

builder.objectType(InboundProductMismatchError, {
  name: 'InboundProductMismatchError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }) }),
});

builder.objectType(InsufficientStockError, {
  name: 'InsufficientStockError',
  description: 'Not enough in stock and no backorder accepted: what the checkout needs to offer one.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    quantityAvailable: t.exposeInt('quantityAvailable'),
    estimatedAvailableAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the missing units would be covered if backordered now; null if they cannot be.',
      resolve: (e) => e.estimatedAvailableAt,
    }),
  }),
});

builder.objectType(BackorderNotAllowedError, {
  name: 'BackorderNotAllowedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }) }),
});

builder.objectType(BackorderLimitError, {
  name: 'BackorderLimitError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    remainingCapacity: t.exposeInt('remainingCapacity'),
  }),
});

builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflictError',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(BackorderNotCancellableError, {
  name: 'BackorderNotCancellableError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ status: t.exposeString('status') }),
});

builder.objectType(NothingToShipError, {
  name: 'NothingToShipError',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});

builder.objectType(CustomerLimitError, {
  name: 'CustomerLimitError',
  description:
    "The order would take the customer past the product's per-customer cap in force (Product.customerLimit: its maxPerCustomer, else the service-wide default).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    limit: t.exposeInt('limit', { description: "The cap in force: the product's own, else the default." }),
    remaining: t.exposeInt('remaining', {
      description: 'What the customer could still order of the product before this order; never below 0.',
    }),
  }),
});

const TotalName = builder.enumType('TotalName', {
  description: 'A total of a product that a write can grow.',
  values: TOTAL_NAMES,
});

builder.objectType(TotalLimitError, {
  name: 'TotalLimitError',
  description:
    "The write would take one of the product's totals past the largest count the API can show (2,147,483,647).",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    total: t.field({ type: TotalName, resolve: (e) => e.total }),
    limit: t.exposeInt('limit'),
    remaining: t.exposeInt('remaining', { description: 'How much the total could still grow.' }),
  }),
});
