import type { WebhookDeliveryRecord, WebhookEndpointRecord } from '../db/repos/webhooks.ts';
import { NotFoundError } from '../domain/errors.ts';
import { enumOfPublicType, PUBLIC_EVENT_TYPES, type PublicEventType } from '../domain/rules/public-events.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  InvalidWebhookUrlError,
  redeliverWebhookDelivery,
  rotateWebhookSecret,
  updateWebhookEndpoint,
} from '../domain/webhooks.ts';
import { builder } from './builder.ts';
import type { Context } from './context-type.ts';
import { ErrorInterface } from './errors.ts';
import { listOf } from './field-cost.ts';
import { fromGlobalId, loadNodes, requireGlobalId, toGlobalId } from './ids.ts';
import { pageByNumber } from './pagination.ts';
import { BOUNDS, badInput, intInRange, stringLength } from './validate.ts';

/** Staff manage where the shop's other systems are told what happened, and watch the deliveries. */

const isStaff = (ctx: Context) => ctx.viewer?.role === 'staff';

export const WebhookEventType = builder.enumType('WebhookEventType', {
  description: 'A kind of event the shop tells other systems about; the value sent is its `type`.',
  values: Object.fromEntries(
    PUBLIC_EVENT_TYPES.map((type) => [enumOfPublicType(type), { value: type, description: `\`${type}\`` }]),
  ) as Record<string, { value: PublicEventType; description: string }>,
});

const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description:
    'PENDING: waiting to be sent or retried. DELIVERED: the endpoint answered 2xx. DEAD: given up after the last attempt.',
  values: ['PENDING', 'DELIVERED', 'DEAD'] as const,
});

export const WebhookEndpoint = builder.objectRef<WebhookEndpointRecord>('WebhookEndpoint');
export const WebhookDelivery = builder.objectRef<WebhookDeliveryRecord>('WebhookDelivery');

async function pageOfDeliveries(
  ctx: Context,
  args: { first?: number | null; after?: string | null; status?: WebhookDeliveryRecord['status'] | null },
  endpointId: number | null,
) {
  const readers = ctx.readers.webhooks;
  const filter = { status: args.status ?? null, endpointId };
  return {
    ...(await pageByNumber(
      args,
      (page) => readers.listDeliveries(filter, page),
      (d) => d.id,
    )),
    totalCount: await readers.countDeliveries(filter),
  };
}

builder.node(WebhookEndpoint, {
  description: 'Where events are posted, signed with its secret.',
  id: { resolve: (e) => e.id },
  loadMany: (ids, ctx) =>
    loadNodes(ids, (id) => (isStaff(ctx) ? ctx.readers.webhooks.endpoint.load(id) : null)),
  fields: (t) => ({
    url: t.exposeString('url'),
    description: t.exposeString('description', { nullable: true }),
    eventTypes: t.field({
      type: [WebhookEventType],
      complexity: listOf(PUBLIC_EVENT_TYPES.length),
      resolve: (e) =>
        e.eventTypes.filter((x): x is PublicEventType => PUBLIC_EVENT_TYPES.includes(x as never)),
    }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', {
      nullable: true,
      description: 'Why the service disabled the endpoint (it kept failing); cleared when enabled again.',
    }),
    failingSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'First failure since the last success; null while it succeeds.',
      resolve: (e) => e.failingSince,
    }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'After a rotation, until when the previous secret still signs alongside the new one.',
      resolve: (e) =>
        e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date()
          ? e.previousSecretExpiresAt
          : null,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    deliveries: t.connection(
      {
        type: WebhookDelivery,
        description: 'Deliveries to this endpoint, newest first; with status, only those.',
        args: { status: t.arg({ type: WebhookDeliveryStatus, required: false }) },
        resolve: (e, args, ctx) => pageOfDeliveries(ctx, args, e.id),
      },
      {
        name: 'WebhookEndpointDeliveriesConnection',
        fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }) }),
      },
    ),
  }),
});

builder.node(WebhookDelivery, {
  description: 'One event for one endpoint: sent until the endpoint answers 2xx, or given up (DEAD).',
  id: { resolve: (d) => d.id },
  loadMany: (ids, ctx) =>
    loadNodes(ids, (id) => (isStaff(ctx) ? ctx.readers.webhooks.delivery.load(id) : null)),
  fields: (t) => ({
    eventId: t.exposeString('eventId', {
      description: 'The `webhook-id` header: the same on every attempt.',
    }),
    eventType: t.field({
      type: WebhookEventType,
      resolve: (d) => d.eventType as PublicEventType,
    }),
    subject: t.exposeString('subject', {
      description: "What the event is about ('backorder:12'); deliveries of one subject keep their order.",
    }),
    status: t.field({ type: WebhookDeliveryStatus, resolve: (d) => d.status }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is tried next; null unless PENDING.',
      resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null),
    }),
    lastStatus: t.exposeInt('lastStatus', {
      nullable: true,
      description: 'HTTP status of the last attempt; null if it got no answer.',
    }),
    lastError: t.exposeString('lastError', { nullable: true }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.deliveredAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.createdAt }),
    body: t.exposeString('body', { description: 'The exact JSON sent, the same bytes on every attempt.' }),
    endpoint: t.field({
      type: WebhookEndpoint,
      resolve: async (d, _args, ctx) => (await ctx.readers.webhooks.endpoint.load(d.endpointId))!,
    }),
  }),
});

builder.objectType(InvalidWebhookUrlError, {
  name: 'InvalidWebhookUrlError',
  description:
    'Endpoints must be https (http only to loopback where allowed), without credentials, at most 2048 characters.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ why: t.exposeString('why') }),
});

builder.queryFields((t) => ({
  webhookEndpoints: t.connection(
    {
      type: WebhookEndpoint,
      authScopes: { staff: true },
      description: 'Webhook endpoints, oldest first.',
      resolve: async (_root, args, ctx) => {
        const readers = ctx.readers.webhooks;
        return {
          ...(await pageByNumber(
            args,
            (page) => readers.listEndpoints(page),
            (e) => e.id,
          )),
          totalCount: await readers.countEndpoints(),
        };
      },
    },
    {
      name: 'WebhookEndpointConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }) }),
    },
  ),
  webhookDeliveries: t.connection(
    {
      type: WebhookDelivery,
      authScopes: { staff: true },
      description: 'Deliveries newest first; with status (DEAD: the dead letters) or endpointId, only those.',
      args: {
        status: t.arg({ type: WebhookDeliveryStatus, required: false }),
        endpointId: t.arg.id({ required: false }),
      },
      resolve: async (_root, args, ctx) => {
        const endpoint =
          args.endpointId == null ? null : fromGlobalId(String(args.endpointId), 'WebhookEndpoint');
        if (args.endpointId != null && endpoint === null) {
          throw badInput('endpointId is not a WebhookEndpoint id', 'endpointId');
        }
        return pageOfDeliveries(ctx, args, endpoint);
      },
    },
    {
      name: 'WebhookDeliveryConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (conn) => conn.totalCount ?? 0 }) }),
    },
  ),
}));

const MAX_OVERLAP_MINUTES = 7 * 24 * 60;

function eventTypes(value: readonly PublicEventType[]): PublicEventType[] {
  const unique = [...new Set(value)];
  if (unique.length === 0) throw badInput('eventTypes must name at least one event type', 'eventTypes');
  return unique.sort();
}

function description(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? stringLength('description', trimmed, 1, BOUNDS.reason) : null;
}

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  fields: (t) => ({
    url: t.string({ description: 'https://…; at most 2048 characters, no credentials.' }),
    description: t.string({ required: false }),
    eventTypes: t.field({ type: [WebhookEventType] }),
    enabled: t.boolean({ required: false, defaultValue: true }),
  }),
});

const UpdateWebhookEndpointInput = builder.inputType('UpdateWebhookEndpointInput', {
  description: 'Only the fields given change; enabling clears disabledReason and failingSince.',
  fields: (t) => ({
    id: t.id(),
    url: t.string({ required: false }),
    description: t.string({ required: false, description: 'null clears it.' }),
    eventTypes: t.field({ type: [WebhookEventType], required: false }),
    enabled: t.boolean({ required: false }),
  }),
});

const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  fields: (t) => ({
    id: t.id(),
    overlapMinutes: t.int({
      required: false,
      defaultValue: 1440,
      description: 'How long the previous secret keeps signing alongside the new one (0..10080).',
    }),
  }),
});

const EndpointWithSecret = (name: string) =>
  builder.objectRef<{ endpoint: WebhookEndpointRecord; secret: string }>(name).implement({
    fields: (t) => ({
      endpoint: t.field({ type: WebhookEndpoint, resolve: (r) => r.endpoint }),
      secret: t.exposeString('secret', {
        description: 'The signing secret (whsec_…). Shown only here: store it with the receiver.',
      }),
    }),
  });

const policyOf = (ctx: Context) => ctx.webhookUrls ?? { allowLoopbackHttp: false };

builder.mutationFields((t) => ({
  createWebhookEndpoint: t.field({
    type: EndpointWithSecret('CreateWebhookEndpointSuccess'),
    authScopes: { staff: true },
    errors: { types: [InvalidWebhookUrlError] },
    args: { input: t.arg({ type: CreateWebhookEndpointInput }) },
    resolve: (_root, { input }, ctx) => {
      const values = {
        url: input.url,
        description: description(input.description),
        eventTypes: eventTypes(input.eventTypes),
        enabled: input.enabled ?? true,
      };
      return ctx.writer.run((tx) => createWebhookEndpoint(tx, values, policyOf(ctx)));
    },
  }),
  updateWebhookEndpoint: t.field({
    type: builder.objectRef<{ endpoint: WebhookEndpointRecord }>('UpdateWebhookEndpointSuccess').implement({
      fields: (f) => ({ endpoint: f.field({ type: WebhookEndpoint, resolve: (r) => r.endpoint }) }),
    }),
    authScopes: { staff: true },
    errors: { types: [NotFoundError, InvalidWebhookUrlError] },
    args: { input: t.arg({ type: UpdateWebhookEndpointInput }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.url === null) throw badInput('url cannot be null', 'url');
      if (input.eventTypes === null) throw badInput('eventTypes cannot be null', 'eventTypes');
      if (input.enabled === null) throw badInput('enabled cannot be null', 'enabled');
      const patch = {
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.description !== undefined ? { description: description(input.description) } : {}),
        ...(input.eventTypes !== undefined ? { eventTypes: eventTypes(input.eventTypes) } : {}),
        ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      };
      const id = requireGlobalId(input.id, 'WebhookEndpoint');
      return { endpoint: await ctx.writer.run((tx) => updateWebhookEndpoint(tx, id, patch, policyOf(ctx))) };
    },
  }),
  rotateWebhookSecret: t.field({
    type: EndpointWithSecret('RotateWebhookSecretSuccess'),
    authScopes: { staff: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: RotateWebhookSecretInput }) },
    resolve: (_root, { input }, ctx) => {
      const minutes = intInRange('overlapMinutes', input.overlapMinutes ?? 1440, 0, MAX_OVERLAP_MINUTES);
      const id = requireGlobalId(input.id, 'WebhookEndpoint');
      return ctx.writer.run((tx) => rotateWebhookSecret(tx, id, minutes * 60_000));
    },
  }),
  deleteWebhookEndpoint: t.field({
    type: builder.objectRef<{ id: number }>('DeleteWebhookEndpointSuccess').implement({
      fields: (f) => ({
        deletedId: f.id({ resolve: (r) => toGlobalId('WebhookEndpoint', r.id) }),
      }),
    }),
    authScopes: { staff: true },
    errors: { types: [NotFoundError] },
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = requireGlobalId(args.id, 'WebhookEndpoint');
      await ctx.writer.run((tx) => deleteWebhookEndpoint(tx, id));
      return { id };
    },
  }),
  redeliverWebhookDelivery: t.field({
    type: builder.objectRef<{ id: number }>('RedeliverWebhookDeliverySuccess').implement({
      fields: (f) => ({
        delivery: f.field({
          type: WebhookDelivery,
          resolve: async (r, _args, ctx) => (await ctx.readers.webhooks.delivery.load(r.id))!,
        }),
      }),
    }),
    authScopes: { staff: true },
    errors: { types: [NotFoundError] },
    description: 'Sends a delivery again (dead or delivered): pending, due now, attempts counted afresh.',
    args: { id: t.arg.id() },
    resolve: async (_root, args, ctx) => {
      const id = requireGlobalId(args.id, 'WebhookDelivery');
      return { id: await ctx.writer.run((tx) => redeliverWebhookDelivery(tx, id)) };
    },
  }),
}));
