import { InboundClosedError, InboundQuantityError, NotFoundError } from '../domain/errors.ts';
import { cancelInbound, scheduleInbound, updateInbound } from '../domain/inbound.ts';
import type { InboundRecord } from '../domain/rules/records.ts';
import { builder } from './builder.ts';
import { INBOUND_ESTIMATE, listOf } from './field-cost.ts';
import { loadNodes, requireGlobalId } from './ids.ts';
import { Product } from './product.ts';
import { BOUNDS, intInRange } from './validate.ts';

const InboundStatus = builder.enumType('InboundStatus', {
  values: ['OPEN', 'RECEIVED', 'CANCELLED'] as const,
});

export const InboundShipment = builder.objectRef<InboundRecord>('InboundShipment');

builder.node(InboundShipment, {
  description: 'Planned supply: units expected at a date. Open until received in full or cancelled.',
  id: { resolve: (i) => i.id },
  // Planned supply is staff information; to anyone else the node does not exist.
  loadMany: (ids, ctx) =>
    loadNodes(ids, (id) => (ctx.viewer?.role === 'staff' ? ctx.readers.inbound.load(id) : null)),
  fields: (t) => ({
    quantity: t.exposeInt('quantity'),
    quantityReceived: t.exposeInt('quantityReceived'),
    expectedAt: t.field({ type: 'DateTime', resolve: (i) => i.expectedAt }),
    status: t.field({ type: InboundStatus, resolve: (i) => i.status }),
    product: t.field({
      type: Product,
      resolve: async (i, _args, ctx) => (await ctx.readers.product.load(i.productId))!,
    }),
  }),
});

builder.objectField(Product, 'inbound', (t) =>
  t.field({
    type: [InboundShipment],
    authScopes: { staff: true },
    complexity: listOf(INBOUND_ESTIMATE),
    description: 'Open inbound shipments, by expectedAt.',
    resolve: (product, _args, ctx) => ctx.readers.openInbound.load(product.id),
  }),
);

const InboundPayload = (name: string) =>
  builder.objectRef<{ inbound: InboundRecord }>(name).implement({
    fields: (t) => ({ inbound: t.field({ type: InboundShipment, resolve: (r) => r.inbound }) }),
  });

const ScheduleInboundInput = builder.inputType('ScheduleInboundInput', {
  fields: (t) => ({ productId: t.id(), quantity: t.int(), expectedAt: t.field({ type: 'DateTime' }) }),
});

const UpdateInboundInput = builder.inputType('UpdateInboundInput', {
  fields: (t) => ({
    id: t.id(),
    quantity: t.int({ required: false }),
    expectedAt: t.field({ type: 'DateTime', required: false }),
  }),
});

builder.mutationFields((t) => ({
  scheduleInbound: t.field({
    type: InboundPayload('ScheduleInboundSuccess'),
    authScopes: { staff: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ScheduleInboundInput }) },
    resolve: async (_root, { input }, ctx) => {
      const quantity = intInRange('quantity', input.quantity, 1, BOUNDS.shipmentQuantity);
      const productId = requireGlobalId(input.productId, 'Product');
      return {
        inbound: await ctx.writer.run((tx) =>
          scheduleInbound(tx, { productId, quantity, expectedAt: input.expectedAt }),
        ),
      };
    },
  }),
  updateInbound: t.field({
    type: InboundPayload('UpdateInboundSuccess'),
    authScopes: { staff: true },
    errors: { types: [NotFoundError, InboundClosedError, InboundQuantityError] },
    args: { input: t.arg({ type: UpdateInboundInput }) },
    resolve: async (_root, { input }, ctx) => {
      const quantity =
        input.quantity == null
          ? undefined
          : intInRange('quantity', input.quantity, 1, BOUNDS.shipmentQuantity);
      const id = requireGlobalId(input.id, 'InboundShipment');
      return {
        inbound: await ctx.writer.run((tx) =>
          updateInbound(tx, {
            id,
            ...(quantity !== undefined ? { quantity } : {}),
            ...(input.expectedAt != null ? { expectedAt: input.expectedAt } : {}),
          }),
        ),
      };
    },
  }),
  cancelInbound: t.field({
    type: InboundPayload('CancelInboundSuccess'),
    authScopes: { staff: true },
    errors: { types: [NotFoundError, InboundClosedError] },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => ({
      inbound: await ctx.writer.run((tx) => cancelInbound(tx, requireGlobalId(args.id, 'InboundShipment'))),
    }),
  }),
}));
