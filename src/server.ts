import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { createAuthenticator } from './auth.ts';
import type { Config } from './config.ts';
import { createContextFactory } from './context.ts';
import { createDb } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { Writer } from './db/transaction.ts';
import { LiveUpdates } from './events/live-updates.ts';
import { GRAPHIQL_DEFAULT_QUERY } from './graphiql.ts';
import { log } from './log.ts';
import { schema } from './schema/index.ts';
import { useSharedSubscriptions } from './shared-subscriptions.ts';

export const LIMITS = { bodyBytes: 1_000_000, depth: 12, aliases: 30 } as const;

export type AppConfig = Pick<Config, 'jwtSecret' | 'pool' | 'mergeWindowMs' | 'production'> & {
  databaseUrl: string;
};

export interface App {
  readonly writer: Writer;
  readonly live: LiveUpdates;
  readonly queries: { count: number };
  start(port?: number, host?: string): Promise<{ url: string; port: number }>;
  stop(): Promise<void>;
}

function tooLarge(res: ServerResponse): void {
  res.writeHead(413, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ message: `Request body is larger than ${LIMITS.bodyBytes} bytes` }] }));
}

/** Reads a request body, refusing (null) as soon as it passes the limit. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMITS.bodyBytes) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
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
    { db, writer, url: config.databaseUrl, pool, mergeWindowMs: config.mergeWindowMs },
    connectionLog,
  );
  const auth = createAuthenticator(config.jwtSecret);
  const contextFor = createContextFactory({ auth, writer, live: live.hub });

  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'backorder-api', defaultQuery: GRAPHIQL_DEFAULT_QUERY, subscriptionsProtocol: 'WS' },
    // GraphiQL served from the package itself, not from a CDN: it works offline and behind firewalls.
    renderGraphiQL,
    // One context factory for both transports: the header over HTTP, connectionParams over WebSocket.
    context: (initial: { request: Request; connectionParams?: { authorization?: unknown } }) =>
      contextFor(
        initial.connectionParams
          ? String(initial.connectionParams.authorization ?? '')
          : initial.request.headers.get('authorization'),
      ),
    plugins: [
      maxDepthPlugin({ n: LIMITS.depth, ignoreIntrospection: true, flattenFragments: true }),
      maxAliasesPlugin({ n: LIMITS.aliases }),
      useSharedSubscriptions(),
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
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > LIMITS.bodyBytes) {
      tooLarge(res);
      req.resume();
      return;
    }
    if (req.method !== 'POST') {
      await yoga.requestListener(req, res);
      return;
    }
    // POST bodies are read here, so that a chunked body without a length meets the same limit.
    const body = await readBody(req);
    if (body === null) {
      tooLarge(res);
      return;
    }
    // A pre-read body on the request is what the fetch adapter then uses instead of the (consumed) stream.
    (req as IncomingMessage & { body?: Buffer }).body = body;
    await yoga.requestListener(req, res);
  };

  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  let disposeWs: (() => Promise<void> | void) | undefined;

  return {
    writer,
    live,
    queries,
    async start(port = 0, host) {
      await migrateToLatest(db);
      await live.start();
      server = createServer((req, res) => {
        handle(req, res).catch((err) => {
          log.error('request failed', err);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      wss = new WebSocketServer({ server, path: '/graphql', maxPayload: LIMITS.bodyBytes });
      disposeWs = useServer(
        {
          // A refused credential closes the socket with 4403; none at all is an anonymous caller.
          onConnect: async (ctx) => {
            try {
              await auth.authenticate(String(ctx.connectionParams?.authorization ?? ''));
              return true;
            } catch {
              return false;
            }
          },
          // WebSocket operations go through the same envelop as HTTP: plugins, limits, context and masking.
          onSubscribe: async (ctx, _id, payload) => {
            const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
              ...ctx,
              connectionParams: ctx.connectionParams ?? {},
              params: payload,
            });
            let document: ReturnType<typeof parse>;
            try {
              document = parse(payload.query);
            } catch (err) {
              return [err as GraphQLError];
            }
            const errors = validate(schema, document);
            if (errors.length > 0) return errors;
            return {
              schema,
              document,
              operationName: payload.operationName,
              variableValues: payload.variables,
              contextValue: await contextFactory(),
              rootValue: { execute, subscribe },
            };
          },
          execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
          subscribe: (args) =>
            (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
        },
        wss,
      ).dispose;
      const address = server.address() as AddressInfo;
      const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
      return { port: address.port, url: `http://${shownHost}:${address.port}/graphql` };
    },
    async stop() {
      stopping = true;
      await disposeWs?.();
      wss?.close();
      await live.stop();
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        // Streams (SSE) do not end by themselves: give requests a moment, then cut what is left.
        const timer = setTimeout(() => server?.closeAllConnections(), 2000);
        await closing;
        clearTimeout(timer);
      }
      await db.destroy();
    },
  };
}
