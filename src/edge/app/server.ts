import type { Writer } from '../../db/transaction.ts';
import type { LiveUpdates } from '../../live/live-updates.ts';
import type { OutboxRelay } from '../../outbox/relay.ts';
import type { WebhookJobs } from '../../outbox/webhook-jobs.ts';
import { createAuthenticator } from '../auth/tokens.ts';
import { ConnectionGuard } from '../limits/connection-caps.ts';
import { EdgeGate } from '../limits/edge-gate.ts';
import { type AppConfig, withDefaults } from './app-config.ts';
import { createGraphQLHandler } from './graphql-handler.ts';
import { type Listening, listen } from './listen.ts';
import { Ops } from './ops-server.ts';
import { createRequestHandler } from './request-handler.ts';
import { createServices } from './services.ts';

export type { AppConfig } from './app-config.ts';
export { LIMITS } from './request-handler.ts';

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

/** The service from its named parts: HTTP and WebSocket on one port, GraphiQL included; a graceful stop. */
export function buildApp(appConfig: AppConfig): App {
  const config = withDefaults(appConfig);
  const services = createServices(config);
  const { db, pool, live } = services;
  const auth = createAuthenticator(config.jwtSecret, config.tokens);
  // Rate limits and admission for every operation; connection caps per caller and in total.
  const gate = new EdgeGate(config.abuse);
  const connections = new ConnectionGuard(gate.limits.connections);
  const ops = new Ops({ config: config.ops, db, pool, poolMax: config.pool.max, live, held: services.held });
  const graphql = createGraphQLHandler(config, { services, auth, gate, ops });
  const handle = createRequestHandler(config, { graphql, auth, gate, connections });
  let listening: Listening | undefined;
  let stopped: Promise<void> | undefined;
  return {
    writer: services.writer,
    live,
    outbox: services.outbox,
    queries: services.queries,
    webhooks: services.webhooks,
    ops,
    async start(port = 0, host) {
      await services.open();
      await gate.ready();
      services.startWorkers();
      listening = await listen(config, { handle, graphql, ops, auth, gate, connections }, port, host);
      return listening.address;
    },
    // Graceful (src/edge/ops/shutdown.ts): unready at once, requests under way answered, sockets closed
    // with 1001, then the listener and the pool; all within the shutdown timeout.
    stop() {
      services.stopping();
      stopped ??= ops.shutDown({
        server: listening?.server,
        closeSockets: async () => listening?.closeSockets(),
        closeResources: () => services.close(() => gate.close()),
      });
      return stopped;
    },
  };
}
