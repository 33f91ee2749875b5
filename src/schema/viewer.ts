import type { Actor } from '../domain/types.ts';
import { Backorder } from './backorder.ts';
import { builder } from './builder.ts';
import { Order, pageOfOrders } from './order.ts';
import { pageByNumber } from './pagination.ts';

export const Viewer = builder.objectRef<Actor>('Viewer').implement({
  description: 'The signed-in caller.',
  fields: (t) => ({
    customerId: t.exposeString('id', { description: "The token's sub." }),
    role: t.exposeString('role'),
    orders: t.connection({
      type: Order,
      authScopes: { customer: true },
      description: 'Your orders, newest first.',
      resolve: (viewer, args, ctx, info) =>
        pageOfOrders(args, (page) => ctx.readers.listOrdersOfCustomer(viewer.id, page), ctx, info),
    }),
    backorders: t.connection({
      type: Backorder,
      authScopes: { customer: true },
      description: 'Your backorders, newest first.',
      resolve: (viewer, args, ctx) =>
        pageByNumber(
          args,
          (page) => ctx.readers.listBackordersOfCustomer(viewer.id, page),
          (b) => b.id,
        ),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    nullable: true,
    description: 'Null for anonymous callers.',
    // Null by rule for them, so it costs them nothing (src/schema/role-cost.ts).
    extensions: { nullForRoles: ['anonymous'] },
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
);
