import { GraphQLError } from 'graphql';
import type { ProductUpdate } from '../live/live-hub.ts';
import { Backorder, visibleBackorder } from './backorder.ts';
import { builder } from './builder.ts';
import { fromGlobalId } from './ids.ts';
import { Product } from './product.ts';

/**
 * Each event carries readers primed with the state right after the change; resolving the selection reads
 * from them, so a subscriber costs no query of its own. Subscribing sends the current state first.
 */
builder.subscriptionFields((t) => ({
  productAvailabilityChanged: t.field({
    type: Product,
    description: 'The product now, then again after each committed change to it (at most one per 100 ms).',
    args: { productId: t.arg.id() },
    subscribe: async (_root, args, ctx) => {
      const id = fromGlobalId(String(args.productId), 'Product');
      const product = id === null ? null : await ctx.readers.product.load(id);
      if (!product) throw new GraphQLError('Product not found', { extensions: { code: 'NOT_FOUND' } });
      return ctx.live.watch(product.id);
    },
    resolve: async (event: ProductUpdate, _args, ctx) => {
      ctx.readers = event.readers;
      const product = await event.readers.product.load(event.productId);
      if (!product) throw new Error(`product ${event.productId} vanished`);
      return product;
    },
  }),
  backorderUpdated: t.field({
    type: Backorder,
    authScopes: { customer: true, staff: true },
    description:
      "Your backorder now, then again whenever its status, allocation, queue position or ETA changes. Someone else's backorder is answered as one that does not exist.",
    args: { id: t.arg.id() },
    subscribe: async (_root, args, ctx) => {
      const id = fromGlobalId(String(args.id), 'Backorder');
      const backorder = id === null ? null : await visibleBackorder(ctx, id);
      if (!backorder) throw new GraphQLError('Backorder not found', { extensions: { code: 'NOT_FOUND' } });
      return ctx.live.watch(backorder.productId, backorder.id);
    },
    resolve: async (event: ProductUpdate, args, ctx) => {
      ctx.readers = event.readers;
      const backorder = await event.readers.backorder.load(fromGlobalId(String(args.id), 'Backorder')!);
      if (!backorder) throw new Error('backorder vanished');
      return backorder;
    },
  }),
}));
