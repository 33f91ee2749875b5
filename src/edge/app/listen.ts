import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { holdSession, socketAuthorization } from '../auth/socket-session.ts';
import type { Authenticator } from '../auth/tokens.ts';
import { answerFailedRequest } from '../http/failed-request.ts';
import { watchSlowClients } from '../http/slow-clients.ts';
import type { ConnectionGuard } from '../limits/connection-caps.ts';
import { admitConnection, admitSocket, type EdgeGate } from '../limits/edge-gate.ts';
import { wsOperations } from '../ws/operations.ts';
import { logSocketErrorsAsOneLine } from '../ws/socket-errors.ts';
import type { FullAppConfig } from './app-config.ts';
import type { GraphQLHandler } from './graphql-handler.ts';
import type { Ops } from './ops-server.ts';
import { LIMITS, type RequestHandler } from './request-handler.ts';

/** The port being served: HTTP and WebSocket on one listener. */
export interface Listening {
  readonly server: Server;
  readonly address: { url: string; port: number };
  /** Ends every WebSocket operation and closes the sockets (1001). */
  closeSockets(): Promise<void>;
}

/** Listens on `port`: HTTP requests through the probes to `handle`, WebSockets on /graphql beside them. */
export async function listen(
  config: Pick<FullAppConfig, 'edge' | 'costBudgets'>,
  parts: {
    handle: RequestHandler;
    graphql: GraphQLHandler;
    ops: Ops;
    auth: Authenticator;
    gate: EdgeGate;
    connections: ConnectionGuard;
  },
  port: number,
  host: string | undefined,
): Promise<Listening> {
  const { handle, ops, connections } = parts;
  const { edge } = config;
  const server = createServer(
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
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: LIMITS.bodyBytes });
  ops.attach(server, () => wss.clients.size);
  await ops.listenForMetrics(host);
  const disposeWs = serveWebSockets(wss, config, parts);
  logSocketErrorsAsOneLine(wss);
  const address = server.address() as AddressInfo;
  const shownHost = host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost';
  return {
    server,
    address: { port: address.port, url: `http://${shownHost}:${address.port}/graphql` },
    async closeSockets() {
      await disposeWs();
      wss.close();
    },
  };
}

/** GraphQL over WebSocket (graphql-ws), through the same envelop and gate as HTTP. */
function serveWebSockets(
  wss: WebSocketServer,
  config: Pick<FullAppConfig, 'costBudgets'>,
  parts: {
    graphql: GraphQLHandler;
    ops: Ops;
    auth: Authenticator;
    gate: EdgeGate;
    connections: ConnectionGuard;
  },
): () => Promise<void> | void {
  const { graphql, ops, auth, gate, connections } = parts;
  return useServer(
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
        wsOperations(graphql, config.costBudgets, {
          subscriptionsPerSocket: gate.limits.connections.subscriptionsPerSocket,
          gate,
        }),
      ),
    },
    wss,
  ).dispose;
}
