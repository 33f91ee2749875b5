import type { Allocation } from '../db/repos/backorders.ts';
import { availableUnits } from '../domain/availability.ts';
import {
  InboundClosedError,
  InboundProductMismatchError,
  NotFoundError,
  StockBelowAllocatedError,
  TotalLimitError,
} from '../domain/errors.ts';
import type { MovementRecord, ProductRecord, StockRecord } from '../domain/rules/records.ts';
import { MOVEMENT_KINDS } from '../domain/rules/stock-rules.ts';
import { adjustStock, receiveStock } from '../domain/stock.ts';
import { builder } from './builder.ts';
import { allocationsCost, movesUnits } from './field-cost.ts';
import { requireGlobalId } from './ids.ts';
import { pageByNumber } from './pagination.ts';
import { Product } from './product.ts';
import { BOUNDS, intInRange, nonZeroDelta, text } from './validate.ts';

export const Stock = builder.objectRef<StockRecord>('Stock').implement({
  description: 'Staff view of the counters. available = onHand - allocated, never below zero.',
  fields: (t) => ({
    onHand: t.exposeInt('onHand'),
    allocated: t.exposeInt('allocated'),
    available: t.int({ resolve: (s) => availableUnits(s) }),
  }),
});

const MovementKind = builder.enumType('StockMovementKind', {
  description:
    'RECEIPT and ADJUSTMENT move onHand; ALLOCATION and RELEASE move allocated; SHIPMENT moves both.',
  values: MOVEMENT_KINDS,
});

const StockMovement = builder.objectRef<MovementRecord>('StockMovement').implement({
  description: 'One row of the append-only stock ledger.',
  fields: (t) => ({
    kind: t.field({ type: MovementKind, resolve: (m) => m.kind }),
    quantity: t.exposeInt('quantity', { description: 'Signed.' }),
    reason: t.exposeString('reason', { nullable: true }),
    reference: t.exposeString('reference', {
      nullable: true,
      description: 'e.g. order:12, backorder:7, inbound:3',
    }),
    actor: t.exposeString('actor', { description: 'The sub of whoever caused it.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (m) => m.createdAt }),
  }),
});

builder.objectFields(Product, (t) => ({
  stock: t.field({
    type: Stock,
    authScopes: { staff: true },
    resolve: async (product, _args, ctx) => {
      const stock = await ctx.readers.stock.load(product.id);
      if (!stock) throw new Error(`product ${product.id} has no stock row`);
      return stock;
    },
  }),
  stockMovements: t.connection({
    type: StockMovement,
    authScopes: { staff: true },
    description: 'The ledger, newest first.',
    resolve: (product, args, ctx) =>
      pageByNumber(
        args,
        (page) => ctx.readers.listMovements(product.id, page),
        (m) => m.id,
      ),
  }),
}));

const BackorderAllocation = builder.objectRef<Allocation>('BackorderAllocation');

/** Resolved in backorder.ts, where Backorder is defined. */
export { BackorderAllocation };

interface StockChangePayload {
  product: ProductRecord;
  stock: StockRecord;
  allocations: Allocation[];
}

const ReceiveStockSuccess = builder.objectRef<StockChangePayload>('ReceiveStockSuccess').implement({
  fields: (t) => ({
    product: t.field({ type: Product, resolve: (r) => r.product }),
    allocations: t.field({
      type: [BackorderAllocation],
      complexity: allocationsCost,
      description: 'What each backorder received, in queue order.',
      resolve: (r) => r.allocations,
    }),
  }),
});

const AdjustStockSuccess = builder.objectRef<StockChangePayload>('AdjustStockSuccess').implement({
  fields: (t) => ({
    product: t.field({ type: Product, resolve: (r) => r.product }),
    allocations: t.field({
      type: [BackorderAllocation],
      complexity: allocationsCost,
      resolve: (r) => r.allocations,
    }),
  }),
});

const ReceiveStockInput = builder.inputType('ReceiveStockInput', {
  fields: (t) => ({
    productId: t.id(),
    quantity: t.int(),
    inboundId: t.id({ required: false, description: 'Count the units against this inbound shipment.' }),
  }),
});

const AdjustStockInput = builder.inputType('AdjustStockInput', {
  fields: (t) => ({ productId: t.id(), delta: t.int(), reason: t.string() }),
});

builder.mutationFields((t) => ({
  receiveStock: t.field({
    type: ReceiveStockSuccess,
    authScopes: { staff: true },
    errors: { types: [NotFoundError, InboundClosedError, InboundProductMismatchError, TotalLimitError] },
    args: { input: t.arg({ type: ReceiveStockInput }) },
    complexity: ({ input }, ctx) => movesUnits(ctx, input.quantity, BOUNDS.shipmentQuantity),
    resolve: async (_root, { input }, ctx) => {
      const quantity = intInRange('quantity', input.quantity, 1, BOUNDS.shipmentQuantity);
      const productId = requireGlobalId(input.productId, 'Product');
      let inboundId: number | null = null;
      if (input.inboundId != null) {
        inboundId = requireGlobalId(input.inboundId, 'InboundShipment');
      }
      const result = await ctx.writer.run((tx) =>
        receiveStock(tx, ctx.viewer!, { productId, quantity, inboundId }),
      );
      ctx.readers.stock.prime(productId, result.stock);
      return result;
    },
  }),
  adjustStock: t.field({
    type: AdjustStockSuccess,
    authScopes: { staff: true },
    errors: { types: [NotFoundError, StockBelowAllocatedError, TotalLimitError] },
    args: { input: t.arg({ type: AdjustStockInput }) },
    complexity: ({ input }, ctx) => movesUnits(ctx, input.delta, BOUNDS.adjustDelta),
    resolve: async (_root, { input }, ctx) => {
      const delta = nonZeroDelta('delta', input.delta, BOUNDS.adjustDelta);
      const reason = text('reason', input.reason, BOUNDS.reason);
      const productId = requireGlobalId(input.productId, 'Product');
      const result = await ctx.writer.run((tx) => adjustStock(tx, ctx.viewer!, { productId, delta, reason }));
      ctx.readers.stock.prime(productId, result.stock);
      return result;
    },
  }),
}));
