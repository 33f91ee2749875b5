import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, GraphQLError, Kind, type OperationDefinitionNode } from 'graphql';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { log } from '../../base/log.ts';
import { useSharedSubscriptions } from '../../live/shared-executions.ts';
import { schema } from '../../schema/index.ts';
import { createContextFactory } from '../auth/context.ts';
import { useSocketExpiry } from '../auth/socket-session.ts';
import { useStreamExpiry } from '../auth/stream-expiry.ts';
import type { Authenticator } from '../auth/tokens.ts';
import { useDocumentLimits } from '../limits/document-limits.ts';
import { useBoundedErrorMessages } from '../limits/echo.ts';
import { type EdgeGate, useEdgeGate } from '../limits/edge-gate.ts';
import { useInputErrorCodes } from '../limits/input-errors.ts';
import { useOperationGuard } from '../limits/operation-guard.ts';
import { useStaffOnlySchemaHints } from '../limits/schema-hints.ts';
import type { FullAppConfig } from './app-config.ts';
import { graphiqlTour, renderGraphiQLOnDemand } from './graphiql.ts';
import type { Ops } from './ops-server.ts';
import type { Services } from './services.ts';
import { loadTrustedDocuments, useTrustedDocuments } from './trusted-documents.ts';

// biome-ignore lint/suspicious/noExplicitAny: Yoga's server and user contexts are the plugins' own.
export type GraphQLHandler = YogaServerInstance<any, any>;

/**
 * GraphQL over HTTP (POST, GET, Server-Sent Events) and, through the same envelop, over WebSocket: the
 * schema, one context factory, and the plugins in the order they judge an operation.
 */
export function createGraphQLHandler(
  config: FullAppConfig,
  parts: { services: Services; auth: Authenticator; gate: EdgeGate; ops: Ops },
): GraphQLHandler {
  const { services, auth, gate, ops } = parts;
  const { edge } = config;
  const contextFor = createContextFactory({
    auth,
    writer: services.writer,
    held: services.held,
    live: {
      watch: (productId, backorderId) => services.live.hub.watch(productId, backorderId),
      notifications: services.live.notifications,
    },
    webhookUrls: { allowLoopbackHttp: config.webhooks.allowLoopback },
    alerts: { maxPerCustomer: config.alerts.maxPerCustomer },
    maxPerCustomerDefault: config.maxPerCustomerDefault,
  });
  const roleOf = (authorization: string | null) =>
    auth.authenticate(authorization).then(
      (actor) => actor?.role ?? null,
      () => null,
    );
  const trusted = loadTrustedDocuments();
  return createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: edge.graphiql && graphiqlTour(config.demoTokens),
    // CORS is answered before Yoga (src/edge/http/cors.ts): Yoga's own reflects any origin with credentials.
    cors: false,
    // GraphiQL served from the package itself, not from a CDN: it works offline and behind firewalls.
    renderGraphiQL: renderGraphiQLOnDemand,
    // One context factory for both transports: the header over HTTP, connectionParams over WebSocket.
    // A refused credential counts against its address's budget (src/edge/limits/edge-gate.ts).
    context: (initial: { request: Request; connectionParams?: { authorization?: unknown } }) =>
      contextFor(
        initial.connectionParams
          ? String(initial.connectionParams.authorization ?? '')
          : initial.request.headers.get('authorization'),
      ).catch((err: unknown) => gate.contextFailed(initial, err)),
    plugins: [
      // A trusted document's hash instead of its text: neither parsed nor validated again; the text is
      // still accepted from anyone. Everything below applies to both.
      useTrustedDocuments(trusted),
      useSocketExpiry(),
      useStreamExpiry(),
      useDocumentLimits(config.documentLimits),
      useOperationGuard(config.costBudgets),
      useInputErrorCodes(),
      useEdgeGate(gate),
      // Before messages are shortened, so that a suggestion is removed whole.
      useStaffOnlySchemaHints({
        introspection: edge.introspection,
        suggestions: edge.suggestions,
        roleOf: (request) => roleOf(request.headers.get('authorization')),
      }),
      useBoundedErrorMessages(),
      useSharedSubscriptions(),
      // Queries sent again and again run compiled (graphql-jit), once per parsed document: those of one
      // operation (the compiled form is kept per document, whatever operation name comes with it) and one
      // root field (graphql-js answers a failed root field at once and refuses its siblings' later reads;
      // a compiled query would finish them first).
      useGraphQlJit({}, { enableIf: (args) => isOneRootQuery(args.document) }),
      ops.plugin(),
    ],
    maskedErrors: {
      // Errors the service raised on purpose (GraphQLError) go out as they are; anything else is masked
      // to the client and logged here in full.
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
        if (!(original instanceof GraphQLError)) log.error('internal error', original);
        return maskError(error, message, isDev);
      },
    },
    logging: false,
  });
}

/**
 * A document holding one operation, a query of one root field (mutations and subscriptions run as
 * graphql-js runs them). Kept per document: the answer depends on the document alone.
 */
function isOneRootQuery(document: DocumentNode): boolean {
  let known = oneRootQueries.get(document);
  if (known === undefined) {
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const [only] = operations;
    known =
      operations.length === 1 &&
      only!.operation === 'query' &&
      only!.selectionSet.selections.length === 1 &&
      only!.selectionSet.selections[0]!.kind === Kind.FIELD;
    oneRootQueries.set(document, known);
  }
  return known;
}
const oneRootQueries = new WeakMap<DocumentNode, boolean>();
