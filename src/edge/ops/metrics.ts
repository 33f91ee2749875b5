import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the metrics read when scraped, rather than being told of every change. */
export interface MetricSources {
  pool: { totalCount: number; idleCount: number; waitingCount: number };
  poolMax: number;
  hub: { flushes: number; snapshots: number };
  /** Availability's inputs held in memory: reads answered from them, reads that went to the database. */
  held?: { hits: number; misses: number; readonly size: number };
  openSockets(): number;
}

export type Transport = 'http' | 'sse' | 'ws';
export type Result = 'ok' | 'client_error' | 'refused' | 'error';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The service's metrics, in a registry of its own (several apps may share a process in tests). Labels are
 * bounded: operations are known names or `other`, results and transports fixed sets, limits the service's
 * own names (see refusals.ts).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'operation' | 'result' | 'transport'>;
  readonly duration: Histogram<'operation' | 'result' | 'transport'>;
  readonly refusals: Counter<'limit' | 'code'>;
  readonly subscriptions: Gauge<'transport'>;
  readonly sseStreams: Gauge;
  readonly feedLag: Histogram;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.requests = new Counter({
      name: 'backorder_requests_total',
      help: 'GraphQL operations answered, by operation name (known ones, else other), result and transport',
      labelNames: ['operation', 'result', 'transport'],
      registers,
    });
    this.duration = new Histogram({
      name: 'backorder_request_duration_seconds',
      help: 'Time to answer a GraphQL operation (a stream: how long it stayed open)',
      labelNames: ['operation', 'result', 'transport'],
      buckets: SECONDS,
      registers,
    });
    this.refusals = new Counter({
      name: 'backorder_refusals_total',
      help: 'Requests and operations refused, by the limit that refused them and the code or HTTP status',
      labelNames: ['limit', 'code'],
      registers,
    });
    this.subscriptions = new Gauge({
      name: 'backorder_subscriptions_active',
      help: 'Subscriptions open now, by transport',
      labelNames: ['transport'],
      registers,
    });
    this.sseStreams = new Gauge({
      name: 'backorder_sse_streams_open',
      help: 'Server-Sent Event responses open now',
      registers,
    });
    new Gauge({
      name: 'backorder_websockets_open',
      help: 'WebSocket connections open now',
      registers,
      collect() {
        this.set(sources.openSockets());
      },
    });
    this.feedLag = new Histogram({
      name: 'backorder_change_feed_lag_seconds',
      help: "From a change's transaction to this instance's change feed reading it",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10],
      registers,
    });
    counterFrom('backorder_live_flushes_total', 'Live updates pushed: one per product per merge window', () =>
      Number(sources.hub.flushes),
    );
    counterFrom('backorder_live_snapshots_total', 'Product states recomputed for live updates', () =>
      Number(sources.hub.snapshots),
    );
    const held = sources.held;
    if (held) {
      counterFrom(
        'backorder_read_cache_hits_total',
        "Products' availability inputs read from memory",
        () => held.hits,
      );
      counterFrom(
        'backorder_read_cache_misses_total',
        "Products' availability inputs read from the database (then held unless they changed meanwhile)",
        () => held.misses,
      );
      new Gauge({
        name: 'backorder_read_cache_products',
        help: 'Products whose availability inputs are held in memory now (READ_CACHE_PRODUCTS at most)',
        registers,
        collect() {
          this.set(held.size);
        },
      });
    }
    new Gauge({
      name: 'backorder_db_pool_connections',
      help: 'Database pool connections, by state (in_use, idle) and the pool maximum (max)',
      labelNames: ['state'],
      registers,
      collect() {
        const { totalCount, idleCount } = sources.pool;
        this.set({ state: 'in_use' }, totalCount - idleCount);
        this.set({ state: 'idle' }, idleCount);
        this.set({ state: 'max' }, sources.poolMax);
      },
    });
    new Gauge({
      name: 'backorder_db_pool_waiting',
      help: 'Requests waiting now for a database pool connection',
      registers,
      collect() {
        this.set(sources.pool.waitingCount);
      },
    });

    function counterFrom(name: string, help: string, read: () => number): void {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
