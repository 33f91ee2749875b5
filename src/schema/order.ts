import type { GraphQLResolveInfo } from 'graphql';
import { canAccess } from '../domain/backorders.ts';
import {
  BackorderLimitError,
  BackorderNotAllowedError,
  CustomerLimitError,
  IdempotencyConflictError,
  InsufficientStockError,
  NotFoundError,
  NothingToShipError,
  TotalLimitError,
} from '../domain/errors.ts';
import { placeOrder, shipOrder } from '../domain/orders.ts';
import type { OrderLineRecord, OrderRecord, PageWindow } from '../domain/rules/records.ts';
import { MAX_PER_CUSTOMER_DEFAULT, ORDER_STATUSES } from '../domain/rules/stock-rules.ts';
import { andThen } from '../read/loader.ts';
import { primePlacedOrder } from '../read/placed-order.ts';
import type { OrderTreeSelection } from '../read/readers.ts';
import { Backorder } from './backorder.ts';
import { builder } from './builder.ts';
import type { Context } from './context-type.ts';
import { listOf } from './field-cost.ts';
import { fromGlobalId, loadNodes, requireGlobalId } from './ids.ts';
import { lookahead, selectedAt } from './lookahead.ts';
import { type ConnectionArgs, type Page, pageByNumber } from './pagination.ts';
import { Product } from './product.ts';
import { BOUNDS, intInRange, stringLength } from './validate.ts';

export const OrderStatus = builder.enumType('OrderStatus', {
  description:
    'AWAITING_STOCK while any unit waits in a queue; else READY while allocated units remain to ship; else SHIPPED if anything shipped, CANCELLED if nothing did.',
  values: ORDER_STATUSES,
});

export const Order = builder.objectRef<OrderRecord>('Order');

const OrderLine = builder.objectRef<OrderLineRecord>('OrderLine').implement({
  fields: (t) => ({
    quantity: t.exposeInt('quantity'),
    quantityAllocated: t.exposeInt('quantityAllocated', {
      description: 'Every unit of the line allocated so far, including those its backorder received later.',
    }),
    quantityShipped: t.exposeInt('quantityShipped'),
    product: t.field({
      type: Product,
      resolve: (l, _args, ctx) => andThen(ctx.readers.product.get(l.productId), (p) => p!),
    }),
    backorder: t.field({
      type: Backorder,
      nullable: true,
      description: 'The part of the line that waited for stock, if any.',
      resolve: (l, _args, ctx) => ctx.readers.backorderByLine.get(l.id),
    }),
  }),
});

builder.node(Order, {
  id: { resolve: (o) => o.id },
  loadMany: (ids, ctx) =>
    loadNodes(ids, async (id) => {
      const order = await ctx.readers.order.load(id);
      return order && ctx.viewer && canAccess(ctx.viewer, order) ? order : null;
    }),
  fields: (t) => ({
    customerId: t.exposeString('customerId'),
    status: t.field({ type: OrderStatus, resolve: (o) => o.status }),
    createdAt: t.field({ type: 'DateTime', resolve: (o) => o.createdAt }),
    lines: t.field({
      type: [OrderLine],
      complexity: listOf(BOUNDS.orderLines),
      resolve: (o, _args, ctx) => ctx.readers.orderLines.get(o.id),
    }),
  }),
});

/** What a query shows of each order on a connection's page. */
function orderTreeShows(info: GraphQLResolveInfo): OrderTreeSelection {
  const lines = selectedAt(lookahead(info), 'edges', 'node', 'lines');
  const backorder = selectedAt(lines, 'backorder');
  return {
    lines: lines !== undefined,
    products: selectedAt(lines, 'product') !== undefined || selectedAt(backorder, 'product') !== undefined,
    backorders: backorder !== undefined,
    ranks:
      selectedAt(backorder, 'queuePosition') !== undefined ||
      selectedAt(backorder, 'unitsAhead') !== undefined,
    etas: selectedAt(backorder, 'estimatedAvailableAt') !== undefined,
  };
}

/**
 * A page of orders, with what the query shows of them read in bulk before they resolve: a page of 100
 * orders of 50 lines then resolves without a promise per line.
 */
export async function pageOfOrders(
  args: ConnectionArgs,
  list: (page: PageWindow<number>) => Promise<OrderRecord[]>,
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Page<OrderRecord>> {
  const page = await pageByNumber(args, list, (o) => o.id);
  await ctx.readers.fillOrders(
    page.edges.map((e) => e.node.id),
    orderTreeShows(info),
  );
  return page;
}

builder.queryField('orders', (t) =>
  t.connection(
    {
      type: Order,
      authScopes: { staff: true },
      description: 'Orders oldest first; with status, only those (READY: what can ship now).',
      args: { status: t.arg({ type: OrderStatus, required: false }) },
      resolve: async (_root, args, ctx, info) => ({
        ...(await pageOfOrders(args, (page) => ctx.readers.listOrders(args.status ?? null, page), ctx, info)),
        totalCount: await ctx.readers.countOrders(args.status ?? null),
      }),
    },
    {
      name: 'OrderConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }) }),
    },
  ),
);

const OrderLineInput = builder.inputType('OrderLineInput', {
  fields: (t) => ({ productId: t.id(), quantity: t.int() }),
});

const PlaceOrderInput = builder.inputType('PlaceOrderInput', {
  fields: (t) => ({
    idempotencyKey: t.string({
      description:
        'Chosen by the client per checkout; a retry with the same key and input returns the same order.',
    }),
    acceptBackorder: t.boolean({ required: false, defaultValue: false }),
    lines: t.field({ type: [OrderLineInput] }),
  }),
});

const OrderPayload = (name: string) =>
  builder.objectRef<{ order: OrderRecord }>(name).implement({
    fields: (t) => ({ order: t.field({ type: Order, resolve: (r) => r.order }) }),
  });

async function loadOrder(
  ctx: { readers: { order: { load(id: number): Promise<OrderRecord | null> } } },
  id: number,
) {
  const order = await ctx.readers.order.load(id);
  if (!order) throw new Error(`order ${id} vanished after commit`);
  return order;
}

builder.mutationFields((t) => ({
  placeOrder: t.field({
    type: OrderPayload('PlaceOrderSuccess'),
    authScopes: { customer: true },
    errors: {
      types: [
        InsufficientStockError,
        BackorderNotAllowedError,
        BackorderLimitError,
        IdempotencyConflictError,
        NotFoundError,
        CustomerLimitError,
        TotalLimitError,
      ],
    },
    args: { input: t.arg({ type: PlaceOrderInput }) },
    resolve: async (_root, { input }, ctx) => {
      stringLength('idempotencyKey', input.idempotencyKey, 1, BOUNDS.idempotencyKey);
      intInRange('lines', input.lines.length, 1, BOUNDS.orderLines);
      const lines = input.lines.map((line, i) => {
        const quantity = intInRange(`lines[${i}].quantity`, line.quantity, 1, BOUNDS.orderLineQuantity);
        const productId = requireGlobalId(line.productId, 'Product');
        return { productId, quantity };
      });
      const placed = await ctx.writer.run((tx) =>
        placeOrder(
          tx,
          ctx.viewer!,
          {
            idempotencyKey: input.idempotencyKey,
            acceptBackorder: input.acceptBackorder ?? false,
            lines,
          },
          ctx.maxPerCustomerDefault ?? MAX_PER_CUSTOMER_DEFAULT,
        ),
      );
      // The order as committed, positions included: the confirmation needs no read back.
      primePlacedOrder(ctx.readers, placed);
      return { order: await loadOrder(ctx, placed.orderId) };
    },
  }),
  shipOrder: t.field({
    type: OrderPayload('ShipOrderSuccess'),
    authScopes: { staff: true },
    errors: { types: [NotFoundError, NothingToShipError] },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = fromGlobalId(String(args.id), 'Order');
      const order = id === null ? null : await ctx.readers.order.load(id);
      if (!order) throw new NotFoundError('Order');
      await ctx.writer.run((tx) => shipOrder(tx, ctx.viewer!, order));
      ctx.readers.order.clear(order.id);
      return { order: await loadOrder(ctx, order.id) };
    },
  }),
}));
