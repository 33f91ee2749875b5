import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createAuthenticator } from './auth.ts';
import { type Config, edgeDefaults, OUTBOX_DEFAULTS, TOKEN_DEFAULTS } from './config.ts';
import { createContextFactory } from './context.ts';
import { backgroundDb, createDb } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { Writer } from './db/transaction.ts';
import { ALERT_DEFAULTS } from './domain/alert-settings.ts';
import { followCommits } from './events/after-commit.ts';
import { LiveUpdates } from './events/live-updates.ts';
import { graphiqlTour, renderGraphiQLOnDemand } from './graphiql.ts';
import { readJsonBody, refuse } from './http/body.ts';
import { applyCors } from './http/cors.ts';
import { DEMO_DIR, type DemoTokens, isDemoRequest, serveDemo } from './http/demo.ts';
import { answerFailedRequest } from './http/failed-request.ts';
import { useStaffOnlySchemaHints } from './http/schema-hints.ts';
import { trackResponse, watchSlowClients } from './http/slow-clients.ts';
import { useStreamExpiry } from './http/stream-expiry.ts';
import { OutboxRelay } from './jobs/outbox-relay.ts';
import { WebhookJobs } from './jobs/webhook-jobs.ts';
import { WEBHOOK_DEFAULTS } from './jobs/webhook-settings.ts';
import { DEFAULT_ABUSE_LIMITS } from './limits/abuse-settings.ts';
import { ConnectionGuard } from './limits/connection-caps.ts';
import { DEFAULT_COST_BUDGETS, DEFAULT_DOCUMENT_LIMITS } from './limits/defaults.ts';
import { useDocumentLimits } from './limits/document-limits.ts';
import { useBoundedErrorMessages } from './limits/echo.ts';
import { admitConnection, admitSocket, callerOfRequest, EdgeGate, useEdgeGate } from './limits/edge-gate.ts';
import { useInputErrorCodes } from './limits/input-errors.ts';
import { useOperationGuard } from './limits/operation-guard.ts';
import { log } from './log.ts';
import { Ops } from './ops/ops.ts';
import { opsDefaults } from './ops/settings.ts';
import { MAX_PER_CUSTOMER_DEFAULT } from './rules/stock-rules.ts';
import { schema } from './schema/index.ts';
import { useSharedSubscriptions } from './shared-subscriptions.ts';
import { wsOperations } from './ws/operations.ts';
import { holdSession, socketAuthorization, useSocketExpiry } from './ws/session.ts';
import { logSocketErrorsAsOneLine } from './ws/socket-errors.ts';

export const LIMITS = { bodyBytes: 1_000_000 } as const;

export type AppConfig = Pick<Config, 'jwtSecret' | 'pool' | 'mergeWindowMs' | 'production'> & {
  databaseUrl: string;
  /** Handed to the /demo page and GraphiQL's tabs: only when the JWT secret was made for this run. */
  demoTokens?: DemoTokens;
  /** MAX_PER_CUSTOMER_DEFAULT (unset: its default, 10,000; 0: off). */
  maxPerCustomerDefault?: Config['maxPerCustomerDefault'];
} & Partial<
    Pick<
      Config,
      | 'edge'
      | 'tokens'
      | 'documentLimits'
      | 'costBudgets'
      | 'ops'
      | 'webhooks'
      | 'outbox'
      | 'abuse'
      | 'alerts'
    >
  >;

export interface App {
  readonly writer: Writer;
  readonly live: LiveUpdates;
  /** Turns committed domain events into public events and queues their webhook deliveries. */
  readonly outbox: OutboxRelay;
  readonly queries: { count: number };
  /** Webhook delivery and retention; `poke()` when deliveries were queued. */
  readonly webhooks: WebhookJobs;
  /** Probes, metrics, request logs and the graceful stop. */
  readonly ops: Ops;
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

/** HTTP (POST, GET, Server-Sent Events) on one port, GraphiQL included; a graceful stop. */
export function buildApp(config: AppConfig): App {
  let stopping = false;
  // While stopping, the database may be shutting down too: its goodbyes are expected, not warnings.
  const connectionLog = { ...log, warn: (message: string) => (stopping ? log.debug : log.warn)(message) };
  const { db, pool, queries } = createDb(config.databaseUrl, {
    ...config.pool,
    onError: (err) => connectionLog.warn(`database connection error: ${err.message}`),
  });
  const writer = new Writer(db);
  const live = new LiveUpdates(
    { db, url: config.databaseUrl, pool, mergeWindowMs: config.mergeWindowMs },
    connectionLog,
  );
  const webhookSettings = config.webhooks ?? WEBHOOK_DEFAULTS;
  const alerts = config.alerts ?? ALERT_DEFAULTS;
  const webhooks = new WebhookJobs({
    pool,
    writer,
    settings: webhookSettings,
    log: connectionLog,
    alertRetentionMs: alerts.retentionMs,
  });
  const outbox = new OutboxRelay(writer.over(backgroundDb(pool)), {
    ...(config.outbox ?? OUTBOX_DEFAULTS),
    log: connectionLog,
  });
  // What follows each commit, whoever wrote it: src/events/after-commit.ts.
  const unfollow = followCommits(writer, { live, outbox, webhooks });
  const edge = config.edge ?? edgeDefaults(config.production);
  const auth = createAuthenticator(config.jwtSecret, config.tokens ?? TOKEN_DEFAULTS);
  const roleOf = (authorization: string | null) =>
    auth.authenticate(authorization).then(
      (actor) => actor?.role ?? null,
      () => null,
    );
  const contextFor = createContextFactory({
    auth,
    writer,
    live: {
      watch: (productId, backorderId) => live.hub.watch(productId, backorderId),
      notifications: live.notifications,
    },
    webhookUrls: { allowLoopbackHttp: webhookSettings.allowLoopback },
    alerts: { maxPerCustomer: alerts.maxPerCustomer },
    maxPerCustomerDefault: config.maxPerCustomerDefault ?? MAX_PER_CUSTOMER_DEFAULT,
  });
  const costBudgets = config.costBudgets ?? DEFAULT_COST_BUDGETS;
  // Rate limits and admission for every operation; connection caps per caller and in total.
  const gate = new EdgeGate(config.abuse ?? DEFAULT_ABUSE_LIMITS);
  const connections = new ConnectionGuard(gate.limits.connections);
  const ops = new Ops({
    config: config.ops ?? opsDefaults(config.production),
    db,
    pool,
    poolMax: config.pool.max,
    live,
  });

  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: edge.graphiql && graphiqlTour(config.demoTokens),
    // CORS is answered before Yoga (src/http/cors.ts): Yoga's own reflects any origin with credentials.
    cors: false,
    // GraphiQL served from the package itself, not from a CDN: it works offline and behind firewalls.
    renderGraphiQL: renderGraphiQLOnDemand,
    // One context factory for both transports: the header over HTTP, connectionParams over WebSocket.
    // A refused credential counts against its address's budget (src/limits/edge-gate.ts).
    context: (initial: { request: Request; connectionParams?: { authorization?: unknown } }) =>
      contextFor(
        initial.connectionParams
          ? String(initial.connectionParams.authorization ?? '')
          : initial.request.headers.get('authorization'),
      ).catch((err: unknown) => gate.contextFailed(initial, err)),
    plugins: [
      useSocketExpiry(),
      useStreamExpiry(),
      useDocumentLimits(config.documentLimits ?? DEFAULT_DOCUMENT_LIMITS),
      useOperationGuard(costBudgets),
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

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    trackResponse(res);
    // The storefront example: static files, outside the GraphQL edge (no CORS, no JSON bodies).
    if (edge.demo && isDemoRequest(req)) {
      await serveDemo({ dir: DEMO_DIR, tokens: config.demoTokens }, req, res);
      return;
    }
    if (applyCors(edge.corsOrigins, req, res)) return;
    // Every request counts against its address before its token or body is read; 429 past the limit.
    if (!(await gate.admitRequest(req, res))) return;
    if (ConnectionGuard.isStream(req)) {
      if (!connections.admitStream(req, res, await callerOfRequest(gate, req, auth.authenticate))) return;
    }
    if (req.method !== 'POST') {
      if (Number(req.headers['content-length'] ?? 0) > LIMITS.bodyBytes) {
        refuse(req, res, 413, `Request body is larger than ${LIMITS.bodyBytes} bytes`);
        return;
      }
      await yoga.requestListener(req, res);
      return;
    }
    // POST bodies are read and parsed here: JSON only, a chunked body without a length meets the same
    // limit, and reading and parsing hold admission by size.
    const body = await readJsonBody(req, res, LIMITS.bodyBytes, (bytes) => gate.admitBody(req, bytes));
    if (body === null) return;
    // A parsed body on the request is what the fetch adapter then hands to Yoga instead of the stream.
    (req as IncomingMessage & { body?: object }).body = body;
    await yoga.requestListener(req, res);
  };

  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  let disposeWs: (() => Promise<void> | void) | undefined;
  let stopped: Promise<void> | undefined;

  return {
    writer,
    live,
    outbox,
    queries,
    ops,
    webhooks,
    async start(port = 0, host) {
      await migrateToLatest(db);
      await live.start();
      await gate.ready();
      outbox.start();
      webhooks.start();
      server = createServer(
        {
          requestTimeout: edge.requestTimeoutMs,
          headersTimeout: edge.headersTimeoutMs,
          // Timeouts are only checked this often (Node's default is 30 s): keep it well under them.
          connectionsCheckingInterval: Math.min(1000, edge.headersTimeoutMs / 2),
        },
        (req, res) => {
          ops.handle(req, res, () => {
            handle(req, res).catch((err) => answerFailedRequest(err, res));
          });
        },
      );
      watchSlowClients(server);
      connections.watch(server);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      wss = new WebSocketServer({ server, path: '/graphql', maxPayload: LIMITS.bodyBytes });
      const sockets = wss;
      ops.attach(server, () => sockets.clients.size);
      await ops.listenForMetrics(host);
      disposeWs = useServer(
        {
          // A refused credential (or one under another name than `authorization`) closes the socket with
          // 4403; none at all is an anonymous caller. A token that expires later closes it then.
          onConnect: async (ctx) => {
            if (!(await admitConnection(gate, ctx.extra, ctx.connectionParams))) return false;
            try {
              const session = await auth.verify(socketAuthorization(ctx.connectionParams));
              holdSession(ctx.extra.socket, session);
              return admitSocket(gate, connections, ctx.extra, session?.actor ?? null);
            } catch {
              await gate.failedAuthentication(ctx.extra.request);
              return false;
            }
          },
          // Each operation is judged and answered on its own: a refusal never closes the socket.
          ...ops.observeWs(
            wsOperations(yoga, costBudgets, {
              subscriptionsPerSocket: gate.limits.connections.subscriptionsPerSocket,
              gate,
            }),
          ),
        },
        wss,
      ).dispose;
      logSocketErrorsAsOneLine(wss);
      const address = server.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      return { port: address.port, url: `http://${shownHost}:${address.port}/graphql` };
    },
    // Graceful (src/ops/shutdown.ts): unready at once, requests under way answered, sockets closed with
    // 1001, then the listener and the pool; all within the shutdown timeout.
    stop() {
      stopping = true;
      stopped ??= ops.shutDown({
        server,
        closeSockets: async () => {
          await disposeWs?.();
          wss?.close();
        },
        closeResources: async () => {
          unfollow();
          await webhooks.stop();
          await outbox.stop();
          await gate.close();
          await live.stop();
          await db.destroy();
        },
      });
      return stopped;
    },
  };
}
