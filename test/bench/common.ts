/**
 * What the benchmark scripts share: the machine they ran on, a fresh database with the service running on
 * it (in this process, or alone in a child process), a small keep-alive GraphQL client, the checkout load
 * of bench:orders (from a worker thread), graphql-ws subscribers opened in batches, percentiles, progress
 * lines and cleanup (also on Ctrl-C).
 *
 * Database: DATABASE_URL names a server on which a fresh database is created (and dropped at the end);
 * without it an embedded Postgres is started in a temporary folder on a free port and removed afterwards.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { createDb, type Db } from '../../src/db/connect.ts';
import { requestHash } from '../../src/domain/orders.ts';
import type { Actor } from '../../src/domain/types.ts';
import { type App, type AppConfig, buildApp } from '../../src/edge/app/server.ts';
import { type Authenticator, createAuthenticator } from '../../src/edge/auth/tokens.ts';
import { type AbuseLimits, DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { DEFAULT_COST_BUDGETS, DEFAULT_DOCUMENT_LIMITS } from '../../src/edge/settings/document-limits.ts';
import { fromGlobalId } from '../../src/schema/ids.ts';
import { freePort } from '../helpers/free-port.ts';

// ---------------------------------------------------------------------------------------------------------
// Progress and settings

const startedAt = performance.now();

/** Seconds since the script started. */
export function elapsed(): number {
  return (performance.now() - startedAt) / 1000;
}

/** A progress line on stderr, stamped with the time since start; figures and the summary go to stdout. */
export function progress(message: string): void {
  process.stderr.write(`[${elapsed().toFixed(2).padStart(7)}s] ${message}\n`);
}

export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}`);
  return value;
}

export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

export function intListEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((s) => Number(s.trim().replaceAll('_', '')));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${name} must be a comma-separated list of whole numbers >= 1`);
  }
  return values;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function int(value: number): string {
  return value.toLocaleString('en-US');
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup

type Cleanup = { name: string; run: () => Promise<void> };
const cleanups: Cleanup[] = [];
let cleaning: Promise<void> | undefined;

/** Registers a cleanup step; steps run in reverse order of registration. */
export function onCleanup(name: string, run: () => Promise<void>): void {
  cleanups.push({ name, run });
}

function withTimeout(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const step = cleanups.pop()!;
      try {
        await withTimeout(step.run(), 15_000, step.name);
      } catch (err) {
        progress(`cleanup: ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  })();
  return cleaning;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    if (cleaning) return;
    progress(`${signal}: stopping and cleaning up`);
    void cleanup().finally(() => process.exit(code));
  });
}

// Connections die while the database stops (Ctrl-C reaches the server too); that must not cut the cleanup
// short. Anything unexpected before that: clean up, then fail.
process.on('uncaughtException', (err) => {
  if (cleaning) return;
  if ((err as { code?: unknown }).code === '57P01') {
    progress('the database server is shutting down: stopping and cleaning up');
  } else {
    console.error(err);
    progress('unexpected error: cleaning up');
  }
  void cleanup().finally(() => process.exit(2));
});

/** A failed correctness check: the script exits 1 after cleanup. */
export class CheckFailed extends Error {}

/**
 * Runs a benchmark. Exit code: 0 when every correctness check passed, 1 when one failed, 2 when the
 * benchmark itself could not run. Performance targets that are missed are reported, never a failure.
 */
export async function runBench(main: () => Promise<boolean>): Promise<never> {
  let code: number;
  try {
    code = (await main()) ? 0 : 1;
  } catch (err) {
    if (err instanceof CheckFailed) {
      console.error(`CHECK FAILED: ${err.message}`);
      code = 1;
    } else {
      console.error(err);
      code = 2;
    }
  }
  await cleanup();
  process.exit(code);
}

// ---------------------------------------------------------------------------------------------------------
// Machine

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  postgres: string;
  loadAverage: number[];
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux: fall back to what Node knows
  }
  return os.cpus()[0]?.model.trim() || 'unknown CPU';
}

export function describeMachine(postgres: string): Machine {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    postgres,
    loadAverage: os.loadavg(),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${fmt(m.ramGiB)} GiB RAM, Node ${m.node}, ${m.postgres}`;
}

// ---------------------------------------------------------------------------------------------------------
// Database and service

/** Node flags the service runs with (as in `npm start`). */
export const SERVICE_NODE_FLAGS = (process.env.BENCH_SERVICE_FLAGS ?? '').split(' ').filter(Boolean);

export const BENCH_SECRET = 'bench-secret-that-is-long-enough-for-hs256-signing!';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(adminUrl: string, text: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await client.query(text);
  } finally {
    await client.end();
  }
}

function postmasterAlive(dataDir: string): boolean {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A server to create the benchmark's database on: DATABASE_URL, or an embedded one started here. */
async function startServer(): Promise<{ adminUrl: string; kind: string }> {
  if (process.env.DATABASE_URL) return { adminUrl: process.env.DATABASE_URL, kind: 'DATABASE_URL' };
  // Imported only when needed: the embedded server's package installs signal hooks of its own, which
  // would stop the server before this script has stopped the service and dropped its database.
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { startEmbeddedPostgres } = await import('../../src/db/embedded.ts');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'backorder-api-bench-'));
  onCleanup('remove the embedded data directory', async () =>
    rmSync(dataDir, { recursive: true, force: true }),
  );
  const port = await freePort();
  progress(`starting embedded Postgres in ${dataDir} on port ${port}`);
  const server = await startEmbeddedPostgres({ dataDir, port, persistent: false });
  onCleanup('stop the embedded Postgres', async () => {
    // Ctrl-C in a terminal reaches the server too, which then shuts down by itself.
    if (postmasterAlive(dataDir)) await server.stop();
  });
  return { adminUrl: server.adminUrl, kind: 'embedded' };
}

/** The limits a benchmark runs under (they stay on): printed so its figures can be read against them. */
export function limitsLine(abuse: AbuseLimits = DEFAULT_ABUSE_LIMITS): string {
  const { rate, connections: c, admission: a } = abuse;
  const budgets = DEFAULT_COST_BUDGETS;
  const d = DEFAULT_DOCUMENT_LIMITS;
  return (
    `limits: cost budgets ${budgets.anonymous}/${budgets.customer}/${budgets.staff} (anonymous/customer/staff); ` +
    `depth ${d.depth}, aliases ${d.aliases}, tokens ${d.tokens}, directives ${d.directives}; ` +
    `admission ${a.enabled ? `on (cost in flight ${a.costInFlight}, per caller ${a.costPerCaller}, fast lane ${a.fastLaneCost})` : 'off'}; ` +
    `rate limits ${rate.customer || rate.anonymous ? `${rate.customer}/${rate.anonymous} per ${rate.windowSeconds} s` : 'off'}; ` +
    `caps: ${c.subscriptionsPerSocket} operations per socket, ${c.socketsPerCaller} sockets and ${c.streamsPerCaller} streams per caller, ${c.openConnections} connections (${c.connectionsPerAddress || 'no cap'} per address)`
  );
}

export interface Bench {
  machine: Machine;
  /** The service's GraphQL endpoint. */
  url: string;
  /** Connection string of the benchmark's own database. */
  databaseUrl: string;
  app: App;
  auth: Authenticator;
  /** The benchmark's own connections, for setup and checks. */
  db: Db;
  pool: pg.Pool;
  client: GraphQLClient;
  token(role: Actor['role'], sub: string): Promise<string>;
}

/** A fresh, empty database on the benchmark's server; dropped by cleanup(). */
async function createBenchDatabase(): Promise<{ databaseUrl: string; name: string; kind: string }> {
  const { adminUrl, kind } = await startServer();
  const name = `bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  onCleanup(`drop database ${name}`, async () => {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return { databaseUrl: withDatabase(adminUrl, name), name, kind };
}

/** The benchmark's own connections (setup and checks), closed by cleanup(). */
function benchConnections(databaseUrl: string, statementTimeoutMs: number): { db: Db; pool: pg.Pool } {
  const { db, pool } = createDb(databaseUrl, {
    max: 4,
    connectionTimeoutMs: 30_000,
    statementTimeoutMs,
    onError: () => {},
  });
  onCleanup('close the benchmark connections', () => db.destroy());
  return { db, pool };
}

/** The machine, with the Postgres server's version and durability settings. */
async function machineWith(pool: pg.Pool, kind: string): Promise<Machine> {
  const settings = await pool.query<{ version: string; max: string; fsync: string; sync: string }>(
    `SELECT current_setting('server_version') AS version, current_setting('max_connections') AS max,
       current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
  );
  const s = settings.rows[0]!;
  const postgres = `PostgreSQL ${s.version.split(' ')[0]} (${kind}, max_connections ${s.max}, fsync ${s.fsync}, synchronous_commit ${s.sync})`;
  return describeMachine(postgres);
}

/**
 * A fresh database with the service running on it (127.0.0.1, a free port), with `poolMax` connections
 * for the service's pool. Everything is undone by cleanup().
 */
export async function startBench(options: {
  poolMax: number;
  statementTimeoutMs?: number;
  /** Settings of the service over its defaults (the benchmark prints those it sets). */
  app?: Partial<AppConfig>;
}): Promise<Bench> {
  const { databaseUrl, name, kind } = await createBenchDatabase();

  const statementTimeoutMs = options.statementTimeoutMs ?? 120_000;
  const app = buildApp({
    databaseUrl,
    jwtSecret: BENCH_SECRET,
    pool: { max: options.poolMax, connectionTimeoutMs: 30_000, statementTimeoutMs },
    mergeWindowMs: 100,
    production: false,
    ...options.app,
  });
  const { url } = await app.start(0, '127.0.0.1');
  onCleanup('stop the service', () => app.stop());
  progress(limitsLine(options.app?.abuse));

  const { db, pool } = benchConnections(databaseUrl, statementTimeoutMs);
  const machine = await machineWith(pool, kind);
  progress(`service at ${url}, database ${name}, app pool ${options.poolMax}`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  onCleanup('close client sockets', async () => agent.destroy());
  const auth = createAuthenticator(BENCH_SECRET);
  return {
    machine,
    url,
    databaseUrl,
    app,
    auth,
    db,
    pool,
    client: new GraphQLClient(url, agent),
    token: (role, sub) => auth.sign({ id: sub, role }),
  };
}

/** A fresh database without a service: for benchmarks that run the service in a child process. */
export interface BenchDatabase {
  machine: Machine;
  databaseUrl: string;
  /** The benchmark's own connections, for setup and checks. */
  db: Db;
  pool: pg.Pool;
  auth: Authenticator;
  token(role: Actor['role'], sub: string): Promise<string>;
}

export async function startDatabase(options: { statementTimeoutMs?: number } = {}): Promise<BenchDatabase> {
  const { databaseUrl, name, kind } = await createBenchDatabase();
  const { db, pool } = benchConnections(databaseUrl, options.statementTimeoutMs ?? 120_000);
  const machine = await machineWith(pool, kind);
  progress(`database ${name}`);
  const auth = createAuthenticator(BENCH_SECRET);
  return { machine, databaseUrl, db, pool, auth, token: (role, sub) => auth.sign({ id: sub, role }) };
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL over HTTP

export interface GraphQLBody<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export interface GraphQLReply<T> {
  status: number;
  body: GraphQLBody<T>;
  /** Response size in bytes. */
  bytes: number;
}

/** POSTs GraphQL documents over one keep-alive agent, as a storefront's backend would. */
export class GraphQLClient {
  private readonly host: string;
  private readonly port: number;
  private readonly path: string;

  constructor(
    url: string,
    private readonly agent: http.Agent,
  ) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.path = u.pathname;
  }

  request<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLReply<T>> {
    const payload = JSON.stringify({ query, variables });
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path: this.path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            accept: 'application/graphql-response+json, application/json',
            'content-length': Buffer.byteLength(payload),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            try {
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(raw.toString('utf8')),
                bytes: raw.length,
              });
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: not JSON: ${raw.toString('utf8').slice(0, 200)}`));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request, but any GraphQL error or non-200 status throws. */
  async data<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const reply = await this.request<T>(query, variables, token);
    if (reply.status !== 200 || reply.body.errors?.length || !reply.body.data) {
      throw new Error(`GraphQL request failed (HTTP ${reply.status}): ${JSON.stringify(reply.body.errors)}`);
    }
    return reply.body.data;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Catalogue and stock through the public API

const CREATE_PRODUCT = /* GraphQL */ `
  mutation BenchCreateProduct($input: CreateProductInput!) {
    createProduct(input: $input) {
      __typename
      ... on CreateProductSuccess { product { id } }
      ... on Error { message }
    }
  }
`;

const RECEIVE_STOCK_PLAIN = /* GraphQL */ `
  mutation BenchReceive($input: ReceiveStockInput!) {
    receiveStock(input: $input) {
      __typename
      ... on ReceiveStockSuccess { product { stock { onHand allocated available } } }
      ... on Error { message }
    }
  }
`;

export interface BenchProduct {
  /** Global id, as clients use it. */
  id: string;
  /** Database id. */
  dbId: number;
  sku: string;
}

/** Creates a product (backorders allowed, no cap) as staff and, with `units` > 0, receives that stock. */
export function createProduct(
  bench: Bench,
  staffToken: string,
  sku: string,
  units = 0,
): Promise<BenchProduct> {
  return createProductVia(bench.client, staffToken, sku, units);
}

/** createProduct through any client of the service (one running in another process, for instance). */
export async function createProductVia(
  client: GraphQLClient,
  staffToken: string,
  sku: string,
  units = 0,
): Promise<BenchProduct> {
  type Created = { createProduct: { __typename: string; product?: { id: string }; message?: string } };
  const created = await client.data<Created>(
    CREATE_PRODUCT,
    { input: { sku, name: `Benchmark ${sku}`, backorderPolicy: 'ALLOW' } },
    staffToken,
  );
  const product = created.createProduct.product;
  if (!product) throw new Error(`createProduct ${sku}: ${created.createProduct.message}`);
  const dbId = fromGlobalId(product.id, 'Product');
  if (dbId === null) throw new Error(`createProduct ${sku}: unexpected id ${product.id}`);
  if (units > 0) {
    type Received = { receiveStock: { __typename: string; message?: string } };
    const received = await client.data<Received>(
      RECEIVE_STOCK_PLAIN,
      { input: { productId: product.id, quantity: units } },
      staffToken,
    );
    if (received.receiveStock.__typename !== 'ReceiveStockSuccess') {
      throw new Error(`receiveStock ${sku}: ${received.receiveStock.message}`);
    }
  }
  return { id: product.id, dbId, sku };
}

/** A markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Checkout load: one-unit orders with acceptBackorder over HTTP, from a worker thread

export const PLACE_ORDER = /* GraphQL */ `
  mutation BenchPlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      __typename
      ... on PlaceOrderSuccess {
        order {
          id
          status
          lines {
            quantityAllocated
            backorder {
              id
              status
              queuePosition
            }
          }
        }
      }
      ... on Error {
        message
      }
    }
  }
`;

export interface PlaceOrderData {
  placeOrder: {
    __typename: string;
    message?: string;
    order?: {
      id: string;
      status: string;
      lines: {
        quantityAllocated: number;
        backorder: { id: string; status: string; queuePosition: number | null } | null;
      }[];
    };
  };
}

/** What a load phase saw, client side. */
export interface LoadResult {
  label: string;
  seconds: number;
  allocated: number;
  backordered: number;
  /** Latencies (ms) of orders that got their unit at once, and of those that joined the queue. */
  allocatedMs: number[];
  backorderedMs: number[];
  /** Seconds into the phase at which the last order that got a unit finished. */
  stockOutAt: number | null;
  /** Queue positions the clients were told. */
  positions: number[];
  errors: string[];
  /** Statements the service sent per order (GraphQL only). */
  statementsPerOrder?: number;
  /** Share of the phase the main thread's event loop was busy (the service's, or the raw SQL clients'). */
  loopBusy?: number;
  /** p99 event loop delay of the main thread, ms. */
  loopDelayP99Ms?: number;
}

export function emptyResult(label: string): LoadResult {
  return {
    label,
    seconds: 0,
    allocated: 0,
    backordered: 0,
    allocatedMs: [],
    backorderedMs: [],
    stockOutAt: null,
    positions: [],
    errors: [],
  };
}

export const orders = (r: LoadResult) => r.allocated + r.backordered;
export const rate = (r: LoadResult) => orders(r) / r.seconds;
export const allMs = (r: LoadResult) => [...r.allocatedMs, ...r.backorderedMs];

/**
 * Runs `worker(client, stopped, t0)` for every simulated client until the time is up, reporting a progress
 * line every second. A worker records into the result and returns once `stopped()` says so.
 */
export async function timed(
  result: LoadResult,
  seconds: number,
  clients: number,
  report: (line: string) => void,
  worker: (client: number, stopped: () => boolean, t0: number) => Promise<void>,
): Promise<LoadResult> {
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let last = 0;
  const ticker = setInterval(() => {
    const now = orders(result);
    report(
      `${result.label}: ${fmt((performance.now() - t0) / 1000)} s, ${int(now)} orders (${int(now - last)}/s), ` +
        `${int(result.allocated)} allocated, ${int(result.backordered)} backordered` +
        (result.errors.length ? `, ${result.errors.length} errors` : ''),
    );
    last = now;
  }, 1000);
  const stopped = () => performance.now() >= deadline || result.errors.length >= 100;
  try {
    await Promise.all(Array.from({ length: clients }, (_, c) => worker(c, stopped, t0)));
  } finally {
    clearInterval(ticker);
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

/** Measures the main thread's event loop (busy share, p99 delay) while `run` goes on. */
export async function watchLoop(run: () => Promise<LoadResult>): Promise<LoadResult> {
  const elu0 = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const result = await run();
  delay.disable();
  result.loopBusy = performance.eventLoopUtilization(elu0).utilization;
  result.loopDelayP99Ms = delay.percentile(99) / 1e6;
  return result;
}

export interface ClientRun {
  url: string;
  tokens: string[];
  productId: string;
  seconds: number;
  label: string;
}

type WorkerMessage = { kind: 'progress'; line: string } | { kind: 'done'; result: LoadResult };

/** One keep-alive agent for every phase, so that the measured phase reuses the warm-up's connections. */
const agent = new http.Agent({ keepAlive: true });

export async function placeOrders(run: ClientRun, report: (line: string) => void): Promise<LoadResult> {
  const client = new GraphQLClient(run.url, agent);
  const result = emptyResult(run.label);
  const tag = randomBytes(4).toString('hex');
  await timed(result, run.seconds, run.tokens.length, report, async (c, stopped, t0) => {
    const token = run.tokens[c]!;
    for (let seq = 0; !stopped(); seq++) {
      const input = {
        idempotencyKey: `${run.label}-${tag}-${c}-${seq}`,
        acceptBackorder: true,
        lines: [{ productId: run.productId, quantity: 1 }],
      };
      const start = performance.now();
      let problem: string | undefined;
      try {
        const reply = await client.request<PlaceOrderData>(PLACE_ORDER, { input }, token);
        const ms = performance.now() - start;
        const payload = reply.body.data?.placeOrder;
        const order = payload?.order;
        const line = order?.lines[0];
        if (reply.status !== 200 || reply.body.errors?.length || !payload) {
          problem = `HTTP ${reply.status}: ${JSON.stringify(reply.body.errors)}`;
        } else if (
          payload.__typename !== 'PlaceOrderSuccess' ||
          !order ||
          !line ||
          order.lines.length !== 1
        ) {
          problem = `${payload.__typename}: ${payload.message ?? JSON.stringify(order)}`;
        } else if (line.quantityAllocated === 1 && line.backorder === null && order.status === 'READY') {
          result.allocated++;
          result.allocatedMs.push(ms);
          result.stockOutAt = (performance.now() - t0) / 1000;
        } else if (
          line.quantityAllocated === 0 &&
          line.backorder?.status === 'WAITING' &&
          typeof line.backorder.queuePosition === 'number' &&
          order.status === 'AWAITING_STOCK'
        ) {
          result.backordered++;
          result.backorderedMs.push(ms);
          result.positions.push(line.backorder.queuePosition);
        } else {
          problem = `unexpected order: ${JSON.stringify(order)}`;
        }
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem) result.errors.push(problem);
    }
  });
  return result;
}

/** The worker thread that plays the GraphQL clients; one per run of the script, reused for every phase. */
export class ClientThread {
  private readonly worker: Worker;
  private pending: { resolve: (r: LoadResult) => void; reject: (e: Error) => void } | undefined;

  constructor() {
    // The worker loads this same file through tsx, which a worker does not inherit by itself.
    const api = import.meta.resolve('tsx/esm/api');
    const code =
      `import(${JSON.stringify(api)})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    this.worker = new Worker(code, { eval: true, workerData: { [CLIENT_THREAD]: true } });
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'progress') progress(message.line);
      else {
        this.pending?.resolve(message.result);
        this.pending = undefined;
      }
    });
    this.worker.on('error', (err) => {
      this.pending?.reject(err);
      this.pending = undefined;
    });
    this.worker.on('exit', (code) => {
      this.pending?.reject(new Error(`the client thread stopped (exit code ${code})`));
      this.pending = undefined;
    });
    onCleanup('stop the client thread', async () => {
      await this.worker.terminate();
    });
  }

  run(run: ClientRun): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(run);
    });
  }
}

/** Marks the worker thread that plays the GraphQL clients of a ClientThread. */
const CLIENT_THREAD = 'benchOrderClients';

if (!isMainThread && (workerData as Record<string, unknown> | null)?.[CLIENT_THREAD]) {
  // The client thread: runs whatever phase the main thread asks for and reports back.
  parentPort!.on('message', (run: ClientRun) => {
    const report = (line: string) =>
      parentPort!.postMessage({ kind: 'progress', line } satisfies WorkerMessage);
    void placeOrders(run, report).then((result) =>
      parentPort!.postMessage({ kind: 'done', result } satisfies WorkerMessage),
    );
  });
}

// ---------------------------------------------------------------------------------------------------------
// Child processes driven over IPC (the service alone, a bare WebSocket server)

/** What a child process answers to a request: the request's fields it chose to return. */
type Reply = Record<string, unknown> & { seq: number; ok: boolean; error?: string };

/**
 * A benchmark helper process (a TypeScript module next to this file, run through tsx) that answers
 * requests sent over IPC: every request carries a `seq`, every reply the same `seq` and `ok`. Its memory
 * and event loop are its own, so what it reports is not mixed with the clients'. Stopped by cleanup().
 */
export class ChildProcessRpc {
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private exited: Promise<number | null>;
  private alive = true;

  private constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.alive = false;
        const error = new Error(`${label} exited (code ${code}, signal ${signal})`);
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
        resolve(code);
      });
    });
    child.on('message', (message: Reply) => {
      const p = this.pending.get(message.seq);
      if (!p) return;
      this.pending.delete(message.seq);
      if (message.ok) p.resolve(message);
      else p.reject(new Error(`${label}: ${message.error}`));
    });
  }

  /** Starts `module` (relative to this file) and waits until it says it is ready. */
  static async start(
    module: string,
    label: string,
    options: { exposeGc?: boolean } = {},
  ): Promise<ChildProcessRpc> {
    const child = fork(fileURLToPath(new URL(module, import.meta.url)), [], {
      execArgv: [
        '--import',
        import.meta.resolve('tsx'),
        ...SERVICE_NODE_FLAGS,
        ...(options.exposeGc ? ['--expose-gc'] : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const rpc = new ChildProcessRpc(child, label);
    onCleanup(`stop the ${label}`, () => rpc.stop());
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }) => {
        if (!message.ready) return;
        child.off('message', onMessage);
        resolve();
      };
      child.on('message', onMessage);
      rpc.exited.then((code) => reject(new Error(`${label} exited before it was ready (code ${code})`)));
    });
    return rpc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  request<T extends Record<string, unknown>>(message: Record<string, unknown>): Promise<T & Reply> {
    if (!this.alive) return Promise.reject(new Error(`${this.label} is not running`));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (r: Reply) => void, reject });
      this.child.send({ ...message, seq });
    });
  }

  /** Asks the process to stop; after 10 s it is killed. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    try {
      await this.request({ cmd: 'stop' }).catch(() => {});
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** What the service process reports about itself. */
export interface ServiceStats {
  /** process.memoryUsage() of the service process, bytes. */
  rss: number;
  heapUsed: number;
  external: number;
  /** Statements the service sent (app.queries.count), change-log reads among them, snapshots built. */
  queries: number;
  changeLogReads: number;
  snapshots: number;
  /** Cumulative event loop time of the service process, ms (performance.eventLoopUtilization()). */
  loopActiveMs: number;
  loopIdleMs: number;
}

export interface ServiceProcess {
  /** The GraphQL endpoint (HTTP); the same path serves graphql-ws. */
  url: string;
  pid: number | undefined;
  /** With `gc`, a full garbage collection first, so that memory figures compare. */
  stats(options?: { gc?: boolean }): Promise<ServiceStats>;
  stop(): Promise<void>;
}

/**
 * The service (buildApp, HTTP and WebSocket on one port, 100 ms merge window) in a process of its own on
 * `databaseUrl`, with `poolMax` connections: see fanout-server.ts.
 */
export async function startServiceProcess(
  databaseUrl: string,
  options: { poolMax: number; statementTimeoutMs?: number; abuse?: AbuseLimits },
): Promise<ServiceProcess> {
  const rpc = await ChildProcessRpc.start('./fanout-server.ts', 'service process', { exposeGc: true });
  const { url } = await rpc.request<{ url: string }>({
    cmd: 'start',
    databaseUrl,
    jwtSecret: BENCH_SECRET,
    poolMax: options.poolMax,
    statementTimeoutMs: options.statementTimeoutMs ?? 120_000,
    ...(options.abuse ? { abuse: options.abuse } : {}),
  });
  progress(`service at ${url} in process ${rpc.pid}, app pool ${options.poolMax}`);
  progress(limitsLine(options.abuse));
  return {
    url,
    pid: rpc.pid,
    stats: async (o = {}) => {
      const {
        seq: _seq,
        ok: _ok,
        ...stats
      } = await rpc.request<Record<string, unknown>>({
        cmd: 'stats',
        gc: o.gc ?? false,
      });
      return stats as unknown as ServiceStats;
    },
    stop: () => rpc.stop(),
  };
}

/** Share of the time between two readings that the service's event loop was busy. */
export function loopBusy(before: ServiceStats, after: ServiceStats): number {
  const active = after.loopActiveMs - before.loopActiveMs;
  const idle = after.loopIdleMs - before.loopIdleMs;
  return active + idle > 0 ? active / (active + idle) : Number.NaN;
}

/** A keep-alive GraphQL client for a service at `url` (its sockets closed by cleanup()). */
export function graphqlClient(url: string): GraphQLClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  onCleanup('close client sockets', async () => agent.destroy());
  return new GraphQLClient(url, agent);
}

// ---------------------------------------------------------------------------------------------------------
// Subscriptions over graphql-ws, one WebSocket connection each

/** One message of a subscription, stamped with performance.now() on arrival. */
export interface LiveMessage<R> {
  at: number;
  data: R | null;
}

/** One subscriber: its own graphql-ws client (own connection) with one subscription. */
export interface LiveSubscriber<R> {
  readonly messages: LiveMessage<R>[];
  /** Errors the subscription ended with (a refused subscription, a closed connection). */
  readonly errors: string[];
  /** Resolves on the first message; rejects if the subscription fails before one arrives. */
  readonly first: Promise<void>;
  close(): Promise<void>;
}

export function wsUrl(httpUrl: string): string {
  const u = new URL(httpUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

/**
 * Opens a connection (with `token`, or anonymous) and subscribes. `onMessage` sees every data message as
 * it arrives, after it was recorded.
 */
export function liveSubscribe<R>(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown>,
  onMessage?: (message: LiveMessage<R>) => void,
): LiveSubscriber<R> {
  const client: Client = createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
  });
  const messages: LiveMessage<R>[] = [];
  const errors: string[] = [];
  let arrived: () => void = () => {};
  let failed: (err: Error) => void = () => {};
  const first = new Promise<void>((resolve, reject) => {
    arrived = resolve;
    failed = reject;
  });
  client.subscribe<R>(
    { query, variables },
    {
      next: (result) => {
        const message: LiveMessage<R> = { at: performance.now(), data: (result.data ?? null) as R | null };
        if (result.errors?.length) errors.push(result.errors.map((e) => e.message).join('; '));
        messages.push(message);
        arrived();
        onMessage?.(message);
      },
      error: (err) => {
        const text = Array.isArray(err)
          ? err.map((e: { message: string }) => e.message).join('; ')
          : err instanceof Error
            ? err.message
            : `connection closed (${String((err as { code?: number }).code ?? '')} ${String((err as { reason?: string }).reason ?? err)})`;
        errors.push(text);
        failed(new Error(text));
      },
      complete: () => {},
    },
  );
  // An unobserved rejection must not end the script: failures are read from `errors`.
  first.catch(() => {});
  return { messages, errors, first, close: async () => client.dispose() };
}

/**
 * Opens `count` things `size` at a time (each batch settled before the next starts), with a progress line
 * every `reportEvery` and at the end.
 */
export async function inBatches<T>(
  count: number,
  size: number,
  open: (index: number) => Promise<T>,
  report: (done: number) => void,
  reportEvery = 1000,
): Promise<T[]> {
  const all: T[] = [];
  let reported = 0;
  for (let start = 0; start < count; start += size) {
    const batch = Array.from({ length: Math.min(size, count - start) }, (_, i) => open(start + i));
    all.push(...(await Promise.all(batch)));
    if (all.length - reported >= reportEvery || all.length === count) {
      reported = all.length;
      report(all.length);
    }
  }
  return all;
}

// ---------------------------------------------------------------------------------------------------------
// A long queue, fast

/**
 * `size` one-unit orders of customers `prefix`1..`prefix`size, each wholly on backorder, in one transaction
 * by SQL: what `size` placeOrder calls on an empty product leave behind, in a fraction of the time.
 */
export async function queueOneUnitBackorders(
  pool: pg.Pool,
  productId: number,
  size: number,
  prefix: string,
): Promise<void> {
  const hash = requestHash({
    idempotencyKey: '',
    acceptBackorder: true,
    lines: [{ productId, quantity: 1 }],
  });
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `WITH o AS (
         INSERT INTO customer_order (customer_id, idempotency_key, request_hash)
         SELECT $2 || g, $2 || g, $3
         FROM generate_series(1, $1::int) g ORDER BY g
         RETURNING id, customer_id
       ), l AS (
         INSERT INTO order_line (order_id, position, product_id, quantity, quantity_taken)
         SELECT id, 0, $4, 1, 0 FROM o ORDER BY id
         RETURNING id, order_id
       )
       INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity)
       SELECT l.order_id, l.id, $4, o.customer_id, 1 FROM l JOIN o ON o.id = l.order_id ORDER BY l.order_id`,
      [size, prefix, hash, productId],
    );
    await client.query(
      `UPDATE stock SET queue_length = queue_length + $2, units_on_backorder = units_on_backorder + $2
       WHERE product_id = $1`,
      [productId, size],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
