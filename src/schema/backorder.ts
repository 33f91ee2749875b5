import type { Allocation } from '../db/repos/backorders.ts';
import { canAccess, cancelBackorder } from '../domain/backorders.ts';
import { BackorderNotCancellableError, NotFoundError } from '../domain/errors.ts';
import type { BackorderRecord } from '../domain/rules/records.ts';
import { BACKORDER_STATUSES, QUEUED_STATUSES } from '../domain/rules/stock-rules.ts';
import { andThen } from '../read/loader.ts';
import { builder } from './builder.ts';
import type { Context } from './context-type.ts';
import { fromGlobalId, loadNodes } from './ids.ts';
import { pageByNumber } from './pagination.ts';
import { Product } from './product.ts';
import { BackorderAllocation } from './stock.ts';
import { badInput } from './validate.ts';

export const BackorderStatus = builder.enumType('BackorderStatus', {
  values: BACKORDER_STATUSES,
});

export const Backorder = builder.objectRef<BackorderRecord>('Backorder');

/** The backorder if the viewer may see it; null for both "missing" and "someone else's". */
export async function visibleBackorder(ctx: Context, id: number): Promise<BackorderRecord | null> {
  const backorder = await ctx.readers.backorder.load(id);
  return backorder && ctx.viewer && canAccess(ctx.viewer, backorder) ? backorder : null;
}

builder.node(Backorder, {
  description: 'The part of an order line that waits for stock, in its product queue until fully allocated.',
  id: { resolve: (b) => b.id },
  loadMany: (ids, ctx) => loadNodes(ids, (id) => visibleBackorder(ctx, id)),
  fields: (t) => ({
    customerId: t.exposeString('customerId'),
    status: t.field({ type: BackorderStatus, resolve: (b) => b.status }),
    quantity: t.exposeInt('quantity', { description: 'Units that had to wait when the order was placed.' }),
    quantityAllocated: t.exposeInt('quantityAllocated', {
      description: 'Units received so far, shipped or not.',
    }),
    queuePosition: t.int({
      nullable: true,
      description: '1-based rank in the product queue; null outside the queue.',
      resolve: (b, _args, ctx) => andThen(ctx.readers.queueRank.get(b.id), (rank) => rank?.position ?? null),
    }),
    unitsAhead: t.int({
      nullable: true,
      description: 'Units still missing for everyone ahead in the queue; null outside the queue.',
      resolve: (b, _args, ctx) =>
        andThen(ctx.readers.queueRank.get(b.id), (rank) => rank?.unitsAhead ?? null),
    }),
    estimatedAvailableAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When the supply that reaches this backorder covers it; null outside the queue or with no estimate.',
      resolve: (b, _args, ctx) => ctx.readers.backorderEta(b, new Date()),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    product: t.field({
      type: Product,
      resolve: (b, _args, ctx) => andThen(ctx.readers.product.get(b.productId), (p) => p!),
    }),
  }),
});

builder.objectType(BackorderAllocation, {
  fields: (t) => ({
    quantity: t.exposeInt('quantity', { description: 'Units this backorder received now.' }),
    backorder: t.field({
      type: Backorder,
      resolve: async (a: Allocation, _args, ctx) => (await ctx.readers.backorder.load(a.backorderId))!,
    }),
  }),
});

builder.queryField('backorder', (t) =>
  t.field({
    type: Backorder,
    nullable: true,
    authScopes: { customer: true, staff: true },
    args: { id: t.arg.id() },
    resolve: (_root, args, ctx) => {
      const id = fromGlobalId(String(args.id), 'Backorder');
      return id === null ? null : visibleBackorder(ctx, id);
    },
  }),
);

builder.objectField(Product, 'backorders', (t) =>
  t.connection(
    {
      type: Backorder,
      authScopes: { staff: true },
      description: 'The queue in queue order; with status, the backorders of those statuses.',
      args: { status: t.arg({ type: [BackorderStatus], required: false }) },
      resolve: async (product, args, ctx) => {
        if (args.status && args.status.length === 0)
          throw badInput('status must name at least one status', 'status');
        const statuses = args.status ?? QUEUED_STATUSES;
        return {
          ...(await pageByNumber(
            args,
            (page) => ctx.readers.listBackordersOfProduct(product.id, statuses, page),
            (b) => b.id,
          )),
          totalCount: await ctx.readers.countBackordersOfProduct(product.id, statuses),
        };
      },
    },
    {
      name: 'ProductBackordersConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }) }),
    },
  ),
);

builder.mutationField('cancelBackorder', (t) =>
  t.field({
    type: builder.objectRef<{ backorder: BackorderRecord }>('CancelBackorderSuccess').implement({
      fields: (f) => ({ backorder: f.field({ type: Backorder, resolve: (r) => r.backorder }) }),
    }),
    authScopes: { customer: true, staff: true },
    errors: { types: [NotFoundError, BackorderNotCancellableError] },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = fromGlobalId(String(args.id), 'Backorder');
      const backorder = id === null ? null : await visibleBackorder(ctx, id);
      if (!backorder) throw new NotFoundError('Backorder');
      const cancelled = await ctx.writer.run((tx) => cancelBackorder(tx, ctx.viewer!, backorder));
      ctx.readers.backorder.clear(cancelled.id).prime(cancelled.id, cancelled);
      return { backorder: cancelled };
    },
  }),
);
