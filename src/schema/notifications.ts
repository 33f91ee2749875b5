import type { AvailabilityRequestRecord } from '../db/repos/alerts.ts';
import type { NotificationRecord } from '../db/repos/notifications.ts';
import { ALERT_DEFAULTS } from '../domain/alert-settings.ts';
import { cancelAvailabilityRequest, notifyWhenAvailable } from '../domain/alerts.ts';
import { canAccess } from '../domain/backorders.ts';
import { AlertLimitError, NotFoundError, ProductAvailableError } from '../domain/errors.ts';
import { markNotificationsRead } from '../domain/notifications.ts';
import { CUSTOMER_EVENT_TYPES, enumOfPublicType } from '../domain/rules/public-events.ts';
import { Backorder } from './backorder.ts';
import { builder } from './builder.ts';
import type { Context } from './context-type.ts';
import { ErrorInterface } from './errors.ts';
import { fromGlobalId, loadNodes, requireGlobalId, toGlobalId } from './ids.ts';
import { Order } from './order.ts';
import { pageByNumber } from './pagination.ts';
import { Product } from './product.ts';
import { badInput } from './validate.ts';
import { Viewer } from './viewer.ts';

/** Only its customer, or staff, sees a notification or a request; to anyone else it does not exist. */
const visible = <T extends { customerId: string }>(ctx: Context, record: T | null): T | null =>
  record && ctx.viewer && canAccess(ctx.viewer, record) ? record : null;

const NotificationType = builder.enumType('NotificationType', {
  description: 'What happened: the public event a notification shows (see the README, "Events").',
  values: Object.fromEntries(CUSTOMER_EVENT_TYPES.map((t) => [enumOfPublicType(t), { value: t }])),
});

export const Notification = builder.objectRef<NotificationRecord>('Notification');

builder.node(Notification, {
  description: "An event about one of the customer's backorders, orders or back-in-stock requests.",
  id: { resolve: (n) => n.id },
  loadMany: (ids, ctx) => loadNodes(ids, async (id) => visible(ctx, await ctx.readers.notification.load(id))),
  fields: (t) => ({
    type: t.field({ type: NotificationType, resolve: (n) => n.type as never }),
    message: t.exposeString('message', { description: 'A sentence a storefront can show as it is.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (n) => n.createdAt }),
    read: t.boolean({ resolve: (n) => n.readAt !== null }),
    product: t.field({
      type: Product,
      nullable: true,
      resolve: (n, _args, ctx) => (n.productId === null ? null : ctx.readers.product.load(n.productId)),
    }),
    order: t.field({
      type: Order,
      nullable: true,
      resolve: (n, _args, ctx) => (n.orderId === null ? null : ctx.readers.order.load(n.orderId)),
    }),
    backorder: t.field({
      type: Backorder,
      nullable: true,
      resolve: (n, _args, ctx) => (n.backorderId === null ? null : ctx.readers.backorder.load(n.backorderId)),
    }),
  }),
});

const AvailabilityRequestStatus = builder.enumType('AvailabilityRequestStatus', {
  values: ['OPEN', 'FULFILLED', 'CANCELLED'] as const,
});

export const AvailabilityRequest = builder.objectRef<AvailabilityRequestRecord>('AvailabilityRequest');

builder.node(AvailabilityRequest, {
  description: 'A customer asked to be told once when a product can be bought without waiting.',
  id: { resolve: (r) => r.id },
  loadMany: (ids, ctx) =>
    loadNodes(ids, async (id) => visible(ctx, await ctx.readers.availabilityRequest.load(id))),
  fields: (t) => ({
    status: t.field({ type: AvailabilityRequestStatus, resolve: (r) => r.status }),
    product: t.field({
      type: Product,
      resolve: async (r, _args, ctx) => (await ctx.readers.product.load(r.productId))!,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    closedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.closedAt }),
  }),
});

builder.objectType(ProductAvailableError, {
  name: 'ProductAvailableError',
  description: 'The product can be bought now: there is nothing to wait for.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    productId: t.id({ resolve: (e) => toGlobalId('Product', e.productId) }),
    quantityAvailable: t.exposeInt('quantityAvailable'),
  }),
});

builder.objectType(AlertLimitError, {
  name: 'AlertLimitError',
  description:
    'You already have as many open back-in-stock requests as one customer may: withdraw one to ask for another.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.exposeInt('limit', { description: 'Open requests one customer may have at once.' }),
  }),
});

builder.objectFields(Product, (t) => ({
  availabilityRequests: t.int({
    authScopes: { staff: true },
    description: 'Customers waiting to hear that it can be bought (open back-in-stock requests).',
    resolve: (p, _args, ctx) => ctx.readers.openRequests.load(p.id),
  }),
  viewerAvailabilityRequest: t.field({
    type: AvailabilityRequest,
    nullable: true,
    description:
      'Your open back-in-stock request for this product; null if you have none (or are not a customer).',
    resolve: (p, _args, ctx) =>
      ctx.viewer?.role === 'customer'
        ? ctx.readers.viewerRequest.load(`${ctx.viewer.id}\u0000${p.id}`)
        : null,
  }),
}));

builder.objectFields(Viewer, (t) => ({
  notifications: t.connection(
    {
      type: Notification,
      authScopes: { customer: true },
      description: 'What happened to your backorders, orders and back-in-stock requests, newest first.',
      resolve: async (viewer, args, ctx) => {
        const [page, counts] = await Promise.all([
          pageByNumber(
            args,
            (window) => ctx.readers.listNotifications(viewer.id, window),
            (n) => n.id,
          ),
          ctx.readers.countNotifications(viewer.id),
        ]);
        return { ...page, totalCount: counts.total, unreadCount: counts.unread };
      },
    },
    {
      name: 'NotificationConnection',
      fields: (c) => ({
        totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }),
        unreadCount: c.int({
          description: 'Your notifications not yet marked read.',
          resolve: (conn) => (conn as { unreadCount?: number }).unreadCount ?? 0,
        }),
      }),
    },
  ),
}));

const AvailabilityRequestPayload = (name: string) =>
  builder.objectRef<{ request: AvailabilityRequestRecord }>(name).implement({
    fields: (t) => ({ request: t.field({ type: AvailabilityRequest, resolve: (r) => r.request }) }),
  });

const MarkNotificationsReadInput = builder.inputType('MarkNotificationsReadInput', {
  fields: (t) => ({
    ids: t.idList({ required: false, description: 'These notifications (up to 100).' }),
    all: t.boolean({ required: false, description: 'All of yours.' }),
  }),
});

builder.mutationFields((t) => ({
  notifyWhenAvailable: t.field({
    type: AvailabilityRequestPayload('NotifyWhenAvailableSuccess'),
    authScopes: { customer: true },
    description:
      'Be told once when the product can be bought without waiting. Asking again answers the same open request.',
    errors: { types: [NotFoundError, ProductAvailableError, AlertLimitError] },
    args: { productId: t.arg.id() },
    resolve: async (_root, args, ctx) => ({
      request: await ctx.writer.run((tx) =>
        notifyWhenAvailable(
          tx,
          ctx.viewer!,
          requireGlobalId(args.productId, 'Product'),
          ctx.alerts?.maxPerCustomer ?? ALERT_DEFAULTS.maxPerCustomer,
        ),
      ),
    }),
  }),
  cancelAvailabilityRequest: t.field({
    type: AvailabilityRequestPayload('CancelAvailabilityRequestSuccess'),
    authScopes: { customer: true },
    description: 'Withdraw your open back-in-stock request for the product.',
    errors: { types: [NotFoundError] },
    args: { productId: t.arg.id() },
    resolve: async (_root, args, ctx) => ({
      request: await ctx.writer.run((tx) =>
        cancelAvailabilityRequest(tx, ctx.viewer!, requireGlobalId(args.productId, 'Product')),
      ),
    }),
  }),
  markNotificationsRead: t.field({
    type: builder
      .objectRef<{ marked: number; unreadCount: number }>('MarkNotificationsReadSuccess')
      .implement({
        fields: (f) => ({
          marked: f.exposeInt('marked', { description: 'How many changed from unread to read.' }),
          unreadCount: f.exposeInt('unreadCount'),
        }),
      }),
    authScopes: { customer: true },
    description: 'Mark some of your notifications read (ids), or all of them (all: true).',
    errors: { types: [] },
    args: { input: t.arg({ type: MarkNotificationsReadInput }) },
    resolve: async (_root, { input }, ctx) => {
      const ids = input.ids ?? null;
      if ((ids === null) === (input.all !== true)) throw badInput('give either ids or all: true', 'input');
      if (ids && (ids.length < 1 || ids.length > 100)) throw badInput('ids must hold 1 to 100 ids', 'ids');
      // Ids of other types, malformed or someone else's, are ignored: they do not exist for this caller.
      const local = ids?.flatMap((id) => fromGlobalId(String(id), 'Notification') ?? []) ?? 'all';
      const marked = await ctx.writer.run((tx) => markNotificationsRead(tx, ctx.viewer!, local));
      const { unread } = await ctx.readers.countNotifications(ctx.viewer!.id);
      return { marked, unreadCount: unread };
    },
  }),
}));

builder.subscriptionField('notificationAdded', (t) =>
  t.field({
    type: Notification,
    authScopes: { customer: true },
    description: 'Each new notification of yours, as it is added, on whichever instance holds your socket.',
    subscribe: (_root, _args, ctx) => ctx.live.notifications.watch(ctx.viewer!.id),
    resolve: (n: NotificationRecord) => n,
  }),
);
