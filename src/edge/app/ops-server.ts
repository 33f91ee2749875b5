import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../../db/connect.ts';
import type { LiveUpdates } from '../../live/live-updates.ts';
import { observeRequest, outcomeOf, useOutcomePlugin } from '../http/observe.ts';
import { knownOperations } from '../ops/known-operations.ts';
import { type MetricSources, Metrics } from '../ops/metrics.ts';
import type { Outcome } from '../ops/outcome.ts';
import { Readiness } from '../ops/readiness.ts';
import { refusalOfStatus } from '../ops/refusals.ts';
import { requestIdFrom } from '../ops/request-id.ts';
import { type ShutdownSteps, shutDown } from '../ops/shutdown.ts';
import type { OpsConfig } from '../settings/ops-settings.ts';
import { observeWsOperations } from '../ws/observe.ts';

const PROBES = new Set(['/health', '/ready', '/metrics']);

export interface OpsDeps {
  config: OpsConfig;
  db: Db;
  pool: { totalCount: number; idleCount: number; waitingCount: number };
  poolMax: number;
  live: LiveUpdates;
  /** Availability's inputs held in memory, for their metrics. */
  held?: MetricSources['held'];
}

function json(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/**
 * Running the service: probes (/health, /ready), metrics (/metrics, here or on a port of its own), one log
 * line per request under its request id, and a graceful stop. The server hands every request to `handle`
 * and its Yoga and WebSocket hooks to `plugin` and `observeWs`.
 */
export class Ops {
  readonly metrics: Metrics | undefined;
  readonly readiness: Readiness;
  private draining = false;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private readonly streams = new Set<ServerResponse>();
  /** How each request under way stops being counted as such. */
  private readonly leaving = new WeakMap<ServerResponse, () => void>();
  private sockets: () => number = () => 0;
  private metricsServer: Server | undefined;
  /** The port /metrics listens on when it has one of its own (known once started). */
  metricsPort: number | undefined;

  constructor(private readonly deps: OpsDeps) {
    const { config, live } = deps;
    this.readiness = new Readiness({
      db: deps.db,
      listener: () => live.wakeup.state(),
      graceMs: config.listenerGraceMs,
    });
    if (config.metrics) {
      const metrics = new Metrics({
        pool: deps.pool,
        poolMax: deps.poolMax,
        hub: live.hub,
        ...(deps.held ? { held: deps.held } : {}),
        openSockets: () => this.sockets(),
      });
      live.feed.onDelivered = (ageMs) => metrics.feedLag.observe(Math.max(0, ageMs) / 1000);
      // Read now, at start-up, rather than on the first request.
      knownOperations();
      this.metrics = metrics;
    }
  }

  plugin(): Plugin {
    return useOutcomePlugin();
  }

  observeWs<T extends object>(hooks: T): T {
    return observeWsOperations(hooks, this.metrics) as T;
  }

  /** Every HTTP request of the API's port: probes answered here, the rest passed to `next`. */
  handle(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const probe = PROBES.has(path) && (path !== '/metrics' || this.servesMetricsHere());
    const requestId = requestIdFrom(req.headers['x-request-id']);
    if (!probe) this.enter(res);
    observeRequest(
      req,
      res,
      requestId,
      this.metrics,
      { quiet: probe, onStream: (r, outcome) => this.streamOpened(r, outcome) },
      () => {
        if (probe) void this.probe(path, req, res);
        else if (this.draining) this.refuseWhileDraining(req, res);
        else next();
      },
    );
  }

  private servesMetricsHere(): boolean {
    return this.metrics !== undefined && this.deps.config.metricsPort === undefined;
  }

  private async probe(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health') {
      json(res, 200, { status: 'alive' });
    } else if (path === '/ready') {
      const report = await this.readiness.report();
      json(res, report.ready ? 200 : 503, report);
    } else if (this.metrics) {
      const text = await this.metrics.render();
      res.writeHead(200, { 'content-type': this.metrics.contentType, 'cache-control': 'no-store' }).end(text);
    } else {
      res.writeHead(404).end();
    }
  }

  /** A request that arrives once the stop has begun: refused, and its connection closed after the answer. */
  private refuseWhileDraining(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const error = { message: 'The server is shutting down', extensions: { code: 'SHUTTING_DOWN' } };
    outcomeOf(req)?.errorsOf([error]);
    json(res, 503, { errors: [error] }, true);
  }

  /** Counts a request as under way until its response closes (or it turns into a stream). */
  private enter(res: ServerResponse): void {
    this.inFlight++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      if (--this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
    };
    res.once('close', leave);
    this.leaving.set(res, leave);
  }

  /** A stream does not end by itself: it is not waited for at shutdown but ended, and counted while open. */
  private streamOpened(res: ServerResponse, outcome: Outcome): () => void {
    this.leaving.get(res)?.();
    this.streams.add(res);
    const transport = outcome.transport;
    this.metrics?.subscriptions.inc({ transport });
    if (transport === 'sse') this.metrics?.sseStreams.inc();
    return () => {
      this.streams.delete(res);
      this.metrics?.subscriptions.dec({ transport });
      if (transport === 'sse') this.metrics?.sseStreams.dec();
    };
  }

  private inFlightDone(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Once listening: counts requests cut for slowness (408) and reads the number of open WebSockets. */
  attach(server: Server, openSockets: () => number): void {
    this.sockets = openSockets;
    server.on('clientError', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        this.metrics?.refusals.inc(refusalOfStatus(408)!);
      }
    });
  }

  /** With a metrics port set: /metrics (and the probes) on that port alone. */
  async listenForMetrics(host: string | undefined): Promise<number | undefined> {
    const port = this.deps.config.metricsPort;
    if (!this.metrics || port === undefined) return undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (PROBES.has(path)) void this.probe(path, req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.metricsServer = server;
    this.metricsPort = (server.address() as AddressInfo).port;
    return this.metricsPort;
  }

  /** The graceful stop: see shutdown.ts. `closeSockets` and `closeResources` are the server's. */
  async shutDown(
    parts: Pick<ShutdownSteps, 'server' | 'closeResources'> & { closeSockets(): Promise<void> },
  ) {
    await shutDown(
      {
        drain: () => {
          this.draining = true;
          this.readiness.drain();
        },
        closeStreams: async () => {
          for (const res of this.streams) res.destroy();
          await parts.closeSockets();
        },
        inFlightDone: () => this.inFlightDone(),
        server: parts.server,
        closeResources: async () => {
          const metricsServer = this.metricsServer;
          if (metricsServer) {
            metricsServer.closeAllConnections();
            await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
          }
          await parts.closeResources();
        },
      },
      this.deps.config.shutdownTimeoutMs,
    );
  }
}
