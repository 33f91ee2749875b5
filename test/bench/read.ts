/**
 * bench:read: what a storefront's reads cost, side by side in one run.
 *
 * Targets, all on the same database of BENCH_PRODUCTS (1,000) products (some in stock, some low, some sold
 * out with open inbound shipments and a backorder queue, a few that refuse backorders):
 * - the service's ProductAvailability (the contract's document, test/operations/storefront.graphql), as an
 *   anonymous POST /graphql with a random sku per request;
 * - PostGraphile v5 (amber preset) reading the same product and stock row by sku. It is installed from npm
 *   into a cached folder outside the repository (BENCH_POSTGRAPHILE_DIR, default <tmp>/bench-read-postgraphile)
 *   together with the Node 22 it requires, and runs on that Node in a process of its own: never a dependency
 *   of the service;
 * - a minimal `node:http` server sending the very statements the service sends for ProductAvailability
 *   (read-sql-server.ts): the floor under any GraphQL layer;
 * - the service's `{ __typename }` (per-request overhead with no read) and `Catalog` with `first: 100`.
 * Each GraphQL target is also sent as a trusted document (persisted-query extension, hash only, no query
 * text); a server that does not serve that says so in its row.
 *
 * Every server runs in a process of its own with the service's default abuse limits on; BENCH_CLIENTS (32)
 * keep-alive clients in a worker thread send requests back to back. BENCH_RUNS (3) runs alternate over all
 * targets (run 1 of each, then run 2 of each, ...), each phase BENCH_WARMUP_SECONDS (2) of warm-up, then
 * BENCH_SECONDS (10) measured. Per phase: requests/s, p50/p99 latency, the CPU the server process used
 * (/proc utime + stime over wall time, % of one core) and per request, the same for Postgres (every process
 * of the server, when it runs on this machine) and the clients' process; statements per request (counted by
 * the service, less its background work, and by the bare server; PostGraphile's on the wire, through a
 * counting proxy in front of a second instance, outside the measured phases). Reported:
 * median and range over the runs, and the service's ProductAvailability against PostGraphile and against
 * the bare server.
 *
 * Checks (exit 1 on failure): every request answered 200 with data and no error; the bare server's
 * statements are those the service's repositories build.
 *
 * Usage: npm run bench:read
 * Env: BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_RUNS, BENCH_CLIENTS, BENCH_PRODUCTS,
 * BENCH_POSTGRAPHILE_DIR, DATABASE_URL.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type OperationDefinitionNode, parse } from 'graphql';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { listOpenInbound } from '../../src/db/repos/inbound.ts';
import { findProductsBySkus } from '../../src/db/repos/products.ts';
import { findStockByProductIds } from '../../src/db/repos/stock.ts';
import type { Database } from '../../src/db/types.ts';
import { freePort } from '../helpers/free-port.ts';
import {
  type BenchDatabase,
  ChildProcessRpc,
  fmt,
  int,
  intEnv,
  limitsLine,
  machineLine,
  markdownTable,
  numberEnv,
  onCleanup,
  percentile,
  progress,
  queueOneUnitBackorders,
  runBench,
  type ServiceProcess,
  startDatabase,
  startServiceProcess,
} from './common.ts';

// The service's request log would drown the progress lines and bill every request for a line of output
// (set LOG_LEVEL to see it).
process.env.LOG_LEVEL ??= 'warn';

const CLIENTS = intEnv('BENCH_CLIENTS', 32);
const PRODUCTS = intEnv('BENCH_PRODUCTS', 1000);
const SECONDS = numberEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = numberEnv('BENCH_WARMUP_SECONDS', 2);
const RUNS = intEnv('BENCH_RUNS', 3);
const POSTGRAPHILE_DIR =
  process.env.BENCH_POSTGRAPHILE_DIR || path.join(os.tmpdir(), 'bench-read-postgraphile');
/** Every server gets the same number of connections. */
const POOL_MAX = CLIENTS + 8;
/** Sequential requests over which PostGraphile's statements are counted on the wire. */
const COUNT_REQUESTS = 300;
const CATALOG_PAGE = 100;
const NOT_SERVED = 'trusted documents: not served by this build';

// ---------------------------------------------------------------------------------------------------------
// Load: keep-alive clients in a worker thread writing prepared requests and reading just enough of each
// response (status, length, whether it carries an error), so that they cost the machine little.

interface LoadJob {
  label: string;
  host: string;
  port: number;
  /** Whole HTTP requests, one of which (at random) is sent each time. */
  requests: Uint8Array[];
  clients: number;
  warmupSeconds: number;
  seconds: number;
}

interface LoadReport {
  label: string;
  /** Requests sent and answered within the measured window, and their latencies (ms). */
  latencies: number[];
  seconds: number;
  /** Failed requests (warm-up included), with the first failure. */
  errors: number;
  firstError?: string;
}

type LoadMessage = { kind: 'measuring' } | { kind: 'done'; report: LoadReport };

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const ERRORS_KEY = Buffer.from('"errors"');

/** One complete HTTP/1.1 response at the start of `buf`: its status, body and length; null if incomplete. */
function takeResponse(buf: Buffer): { status: number; body: Buffer; length: number } | null {
  const headerEnd = buf.indexOf(CRLF2);
  if (headerEnd < 0) return null;
  const head = buf.toString('latin1', 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const start = headerEnd + 4;
  const declared = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (declared) {
    const end = start + Number(declared[1]);
    return buf.length < end ? null : { status, body: buf.subarray(start, end), length: end };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) throw new Error(`response without a length: ${head}`);
  const chunks: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(buf.toString('latin1', at, lineEnd), 16);
    if (size === 0) {
      // No trailers: the last chunk is followed by an empty line.
      return buf.length < lineEnd + 4 ? null : { status, body: Buffer.concat(chunks), length: lineEnd + 4 };
    }
    if (buf.length < lineEnd + 2 + size + 2) return null;
    chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

async function runLoad(job: LoadJob, measuring: () => void): Promise<LoadReport> {
  const t0 = performance.now();
  const from = t0 + job.warmupSeconds * 1000;
  const until = from + job.seconds * 1000;
  const report: LoadReport = { label: job.label, latencies: [], seconds: job.seconds, errors: 0 };
  const timer = setTimeout(measuring, Math.max(0, from - performance.now()));
  const fail = (what: string) => {
    report.errors++;
    report.firstError ??= what;
  };

  const client = () =>
    new Promise<void>((resolve) => {
      const socket = net.connect({ host: job.host, port: job.port, noDelay: true });
      let buf: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      let finished = false;
      const send = () => {
        sentAt = performance.now();
        socket.write(job.requests[Math.floor(Math.random() * job.requests.length)]!);
      };
      const finish = () => {
        if (finished) return;
        finished = true;
        socket.destroy();
        resolve();
      };
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        let response: ReturnType<typeof takeResponse>;
        try {
          response = takeResponse(buf);
        } catch (err) {
          fail((err as Error).message);
          finish();
          return;
        }
        if (!response) return;
        const now = performance.now();
        buf = buf.subarray(response.length);
        if (response.status !== 200 || response.body.indexOf(ERRORS_KEY) >= 0) {
          fail(`HTTP ${response.status}: ${response.body.toString('utf8').slice(0, 300)}`);
        } else if (sentAt >= from && now <= until) {
          report.latencies.push(now - sentAt);
        }
        if (now >= until || report.errors >= 100) finish();
        else send();
      });
      socket.on('error', (err) => {
        fail(err.message);
        finish();
      });
      socket.on('close', () => {
        if (!finished) fail('the server closed the connection');
        finish();
      });
    });

  await Promise.all(Array.from({ length: job.clients }, client));
  clearTimeout(timer);
  return report;
}

/** Marks the worker thread that plays the clients. */
const LOAD_THREAD = 'benchReadLoad';

/** The worker thread that plays the clients, one phase at a time. */
class LoadThread {
  private readonly worker: Worker;
  private pending:
    | { resolve: (r: LoadReport) => void; reject: (e: Error) => void; measuring: () => void }
    | undefined;

  constructor() {
    // The worker loads this same file through tsx, which a worker does not inherit by itself.
    const api = import.meta.resolve('tsx/esm/api');
    const code =
      `import(${JSON.stringify(api)})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    this.worker = new Worker(code, { eval: true, workerData: { [LOAD_THREAD]: true } });
    this.worker.on('message', (message: LoadMessage) => {
      if (message.kind === 'measuring') this.pending?.measuring();
      else {
        this.pending?.resolve(message.report);
        this.pending = undefined;
      }
    });
    const failed = (err: Error) => {
      this.pending?.reject(err);
      this.pending = undefined;
    };
    this.worker.on('error', failed);
    this.worker.on('exit', (code) => failed(new Error(`the client thread stopped (exit code ${code})`)));
    onCleanup('stop the client thread', async () => {
      await this.worker.terminate();
    });
  }

  run(job: LoadJob, measuring: () => void): Promise<LoadReport> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, measuring };
      this.worker.postMessage(job);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// CPU, read from /proc: the time a process spent on a core, user and system

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's ppid and CPU seconds so far; undefined when it is gone (or not on this machine). */
function procStat(pid: number): { ppid: number; cpu: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state, ppid, ..., utime (14th), stime (15th).
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** CPU seconds of the postmaster and each of its processes (backends come and go), by pid. */
function postgresCpu(postmaster: number | undefined): Map<number, number> {
  const cpu = new Map<number, number>();
  if (postmaster === undefined) return cpu;
  const own = procStat(postmaster);
  if (!own) return cpu;
  cpu.set(postmaster, own.cpu);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = procStat(pid);
    if (stat?.ppid === postmaster) cpu.set(pid, stat.cpu);
  }
  return cpu;
}

/** Whether `pid` is a Postgres process on this machine (not one of another server's that shares its pid). */
function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return false;
  }
}

interface CpuReading {
  at: number;
  server: number | undefined;
  postgres: Map<number, number>;
  /** This process (the clients' worker thread included), seconds. */
  clients: number;
}

function readCpu(serverPid: number | undefined, postmaster: number | undefined): CpuReading {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    server: serverPid === undefined ? undefined : procStat(serverPid)?.cpu,
    postgres: postgresCpu(postmaster),
    clients: (usage.user + usage.system) / 1e6,
  };
}

/** CPU seconds between two readings: server, Postgres (NaN when not on this machine), clients. */
function cpuBetween(a: CpuReading, b: CpuReading): { server: number; postgres: number; clients: number } {
  let postgres = 0;
  // A backend that started during the phase counts whole; one that ended took its last figures along
  // (only idle ones end: the pools keep theirs while busy).
  for (const [pid, cpu] of b.postgres) postgres += cpu - (a.postgres.get(pid) ?? 0);
  return {
    server: a.server !== undefined && b.server !== undefined ? b.server - a.server : Number.NaN,
    postgres: b.postgres.size > 0 ? postgres : Number.NaN,
    clients: b.clients - a.clients,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Documents

const STOREFRONT = fileURLToPath(new URL('../operations/storefront.graphql', import.meta.url));

/** An operation of the contract file, exactly as written there. */
function contractOperation(name: string): string {
  const source = readFileSync(STOREFRONT, 'utf8');
  const op = parse(source).definitions.find(
    (d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && d.name?.value === name,
  );
  if (!op?.loc) throw new Error(`${name} is not in ${STOREFRONT}`);
  return source.slice(op.loc.start, op.loc.end);
}

const PRODUCT_AVAILABILITY = contractOperation('ProductAvailability');
const CATALOG = contractOperation('Catalog');
const TYPENAME = '{ __typename }';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

/** `name version` of each package as installed under `dir`. */
function versions(dir: string, names: string[]): string {
  return names
    .map((name) => {
      try {
        const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'));
        return `${name} ${(pkg as { version: string }).version}`;
      } catch {
        return `${name} ?`;
      }
    })
    .join(', ');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The hashes of the service's trusted documents, by operation name: the manifest GraphQL Code Generator
 * writes (`npm run codegen`), which the service trusts for the contract's operations. A document without
 * one is sent by the sha256 of its own text (which no server here trusts).
 */
const MANIFEST = fileURLToPath(new URL('../generated/persisted-documents.json', import.meta.url));
const MANIFEST_HASHES = new Map(
  Object.entries(
    existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>) : {},
  ).flatMap(([key, text]) => {
    const name = /^(?:query|mutation|subscription)\s+(\w+)/.exec(text)?.[1];
    return name ? [[name, key.replace(/^sha256:/, '')] as const] : [];
  }),
);

interface GraphQLRequest {
  query: string;
  operationName: string | null;
  variables: Record<string, unknown>;
}

/** The body as sent: with the document, or only its hash (a trusted document). */
function graphqlBody(request: GraphQLRequest, trusted: boolean): string {
  const { query, operationName, variables } = request;
  return JSON.stringify(
    trusted
      ? {
          extensions: {
            persistedQuery: {
              version: 1,
              sha256Hash: (operationName && MANIFEST_HASHES.get(operationName)) ?? sha256(query),
            },
          },
          variables,
          operationName,
        }
      : { query, variables, operationName },
  );
}

function httpRequest(url: URL, body: string): Buffer {
  const payload = Buffer.from(body);
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
    `accept: application/graphql-response+json, application/json\r\ncontent-length: ${payload.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

async function post(
  url: string,
  body: string,
): Promise<{ status: number; json: { data?: unknown; errors?: { message: string }[] } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
    },
    body,
  });
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    return { status: res.status, json: { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] } };
  }
}

const answered = (r: { status: number; json: { data?: unknown; errors?: unknown[] } }) =>
  r.status === 200 && r.json.data != null && !r.json.errors?.length;

// ---------------------------------------------------------------------------------------------------------
// Catalogue: products in every state the availability rules tell apart

async function seed(database: BenchDatabase): Promise<string[]> {
  const { rows } = await database.pool.query<{ id: number; sku: string; g: number }>(
    `INSERT INTO product (sku, name, backorder_policy, backorder_limit, low_stock_threshold, restock_lead_time_days)
     SELECT 'READ-' || lpad(g::text, 5, '0'), 'Read benchmark product ' || g,
       CASE WHEN g % 20 = 0 THEN 'DENY' ELSE 'ALLOW' END,
       CASE WHEN g % 7 = 0 THEN 40 END,
       CASE WHEN g % 3 = 0 THEN 5 END,
       CASE WHEN g % 2 = 0 THEN 14 END
     FROM generate_series(1, $1::int) g ORDER BY g
     RETURNING id::int, sku, substring(sku from 6)::int AS g`,
    [PRODUCTS],
  );
  // Tenths 0-5 in stock, 6 low (3 left), 7-9 sold out: those get a queue and shipments on their way, as
  // do some in stock.
  await database.pool.query(
    `WITH p AS (SELECT id, substring(sku from 6)::int AS g FROM product WHERE sku LIKE 'READ-%'),
     s AS (
       SELECT id, g, CASE WHEN g % 10 < 6 THEN 20 + g % 180 WHEN g % 10 = 6 THEN 5 ELSE 0 END AS on_hand,
         CASE WHEN g % 10 < 6 THEN g % 15 WHEN g % 10 = 6 THEN 2 ELSE 0 END AS allocated
       FROM p
     ), ledger AS (
       INSERT INTO stock_movement (product_id, kind, quantity, actor)
       SELECT id, 'RECEIPT', on_hand, 'bench' FROM s WHERE on_hand > 0
       UNION ALL SELECT id, 'ALLOCATION', allocated, 'bench' FROM s WHERE allocated > 0
     ), inbound AS (
       INSERT INTO inbound_shipment (product_id, quantity, expected_at)
       SELECT id, 10 + n * 15, now() + make_interval(days => 3 + g % 20 + n * 10)
       FROM s, generate_series(0, 1) n WHERE g % 10 >= 7 OR (g % 10 = 0 AND n = 0)
     )
     INSERT INTO stock (product_id, on_hand, allocated)
     SELECT id, on_hand, allocated FROM s
     ON CONFLICT (product_id) DO UPDATE SET on_hand = excluded.on_hand, allocated = excluded.allocated`,
  );
  const soldOut = rows.filter((r) => r.g % 10 >= 7 && r.g % 20 !== 0);
  for (const r of soldOut) await queueOneUnitBackorders(database.pool, r.id, 1 + (r.g % 25), `read-${r.g}-`);
  const { rows: states } = await database.pool.query<{ state: string; n: number }>(
    `SELECT CASE WHEN s.on_hand - s.allocated > coalesce(p.low_stock_threshold, 0) THEN 'in stock'
         WHEN s.on_hand > s.allocated THEN 'low'
         WHEN p.backorder_policy = 'DENY' THEN 'out of stock'
         ELSE 'backorder' END AS state, count(*)::int AS n
     FROM product p JOIN stock s ON s.product_id = p.id WHERE p.sku LIKE 'READ-%' GROUP BY 1 ORDER BY 1`,
  );
  const queued = await database.pool.query<{ n: number; i: number }>(
    `SELECT (SELECT count(*) FROM backorder)::int AS n,
       (SELECT count(*) FROM inbound_shipment WHERE status = 'OPEN')::int AS i`,
  );
  progress(
    `catalogue: ${int(rows.length)} products (${states.map((s) => `${int(s.n)} ${s.state}`).join(', ')}), ` +
      `${int(queued.rows[0]!.n)} backorders queued, ${int(queued.rows[0]!.i)} open inbound shipments`,
  );
  return rows.map((r) => r.sku);
}

// ---------------------------------------------------------------------------------------------------------
// The bare server: its statements must be the service's

/** The SQL the service's repositories send for one ProductAvailability, captured from Kysely itself. */
async function serviceStatements(databaseUrl: string, sku: string): Promise<string[]> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const statements: string[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => void statements.push(event.query.sql),
  });
  try {
    const [product] = await findProductsBySkus(db, [sku]);
    await findStockByProductIds(db, [Number(product!.id)]);
    await listOpenInbound(db, [Number(product!.id)]);
  } finally {
    await db.destroy();
  }
  return statements;
}

// ---------------------------------------------------------------------------------------------------------
// PostGraphile v5 on Node 22, installed outside the repository

interface PostGraphile {
  url: string;
  pid: number | undefined;
  version: string;
  node: string;
  nodeBinary: string;
  command: string;
  stop(): Promise<void>;
}

function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** The Node 22 binary the npm package `node@22` brought, if one of the places it may be holds one. */
function node22(dir: string): { binary: string; version: string } | undefined {
  for (const candidate of ['node_modules/node/bin/node', 'node_modules/.bin/node']) {
    const binary = path.join(dir, candidate);
    if (!existsSync(binary)) continue;
    try {
      const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
      if (version.startsWith('v22.')) return { binary, version };
    } catch {
      // not runnable here: try the next place
    }
  }
  return undefined;
}

async function installPostGraphile(dir: string): Promise<{ binary: string; version: string }> {
  const ready = existsSync(path.join(dir, 'node_modules/postgraphile/package.json')) && node22(dir);
  if (ready) {
    progress(`PostGraphile: using the copy installed in ${dir}`);
    return ready;
  }
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'package.json'))) {
    writeFileSync(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name: 'bench-read-postgraphile', private: true }, null, 2)}\n`,
    );
  }
  const args = ['install', '--no-audit', '--no-fund', 'postgraphile@5', 'node@22'];
  progress(`PostGraphile: npm ${args.join(' ')} (in ${dir}; kept for later runs)`);
  const started = performance.now();
  const { code, output } = await run('npm', args, dir);
  if (code !== 0) throw new Error(`npm install failed (exit ${code}):\n${output.slice(-2000)}`);
  const found = node22(dir);
  if (!found) throw new Error(`npm install brought no runnable Node 22 into ${dir}/node_modules`);
  progress(`PostGraphile: installed in ${fmt((performance.now() - started) / 1000)} s`);
  return found;
}

/** The connection string with its password hidden, for printing. */
function masked(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

async function startPostGraphile(databaseUrl: string, label = 'PostGraphile'): Promise<PostGraphile> {
  const dir = POSTGRAPHILE_DIR;
  const node = await installPostGraphile(dir);
  const pkg = JSON.parse(readFileSync(path.join(dir, 'node_modules/postgraphile/package.json'), 'utf8')) as {
    version: string;
    bin: string | Record<string, string>;
  };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin.postgraphile ?? Object.values(pkg.bin)[0]!);
  const cli = path.join(dir, 'node_modules/postgraphile', bin);
  // The amber preset on the benchmark's database, schema public, with as many connections as the others.
  const config = path.join(dir, 'graphile.config.mjs');
  writeFileSync(
    config,
    [
      `import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';`,
      `import { makePgService } from 'postgraphile/adaptors/pg';`,
      '',
      'export default {',
      '  extends: [PostGraphileAmberPreset],',
      '  pgServices: [',
      '    makePgService({',
      '      connectionString: process.env.BENCH_READ_DATABASE_URL,',
      `      schemas: ['public'],`,
      '      poolConfig: { max: Number(process.env.BENCH_READ_POOL_MAX) },',
      '    }),',
      '  ],',
      '};',
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const args = [cli, '-C', config, '-p', String(port), '-n', '127.0.0.1'];
  const env = {
    ...process.env,
    BENCH_READ_DATABASE_URL: databaseUrl,
    BENCH_READ_POOL_MAX: String(POOL_MAX),
    NODE_ENV: 'production',
    GRAPHILE_ENV: 'production',
  };
  const command =
    `NODE_ENV=production GRAPHILE_ENV=production BENCH_READ_DATABASE_URL=${masked(databaseUrl)} ` +
    `BENCH_READ_POOL_MAX=${POOL_MAX} ${node.binary} ${args.join(' ')}`;
  progress(`${label}: ${command}`);
  const child: ChildProcess = spawn(node.binary, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  onCleanup(`stop ${label}`, stop);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`PostGraphile did not listen within 60 s:\n${output}`)),
      60_000,
    );
    const seen = (d: Buffer) => {
      output += d.toString();
      if (/listening/i.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`PostGraphile exited (code ${code}):\n${output}`));
    });
  });
  // Keep reading, so that a full pipe never stalls it; say what it says.
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  child.stdout!.on('data', (d: Buffer) => progress(`${label}: ${d.toString().trim()}`));
  child.stderr!.on('data', (d: Buffer) => progress(`${label}: ${d.toString().trim()}`));
  const url = `http://127.0.0.1:${port}/graphql`;
  progress(`${label} ${pkg.version} at ${url} in process ${child.pid}, on Node ${node.version}`);
  return {
    url,
    pid: child.pid,
    version: pkg.version,
    node: node.version,
    nodeBinary: node.binary,
    command,
    stop,
  };
}

/** PostGraphile's document for a product and its stock row by sku, with the names its schema gives them. */
async function postgraphileDocument(url: string): Promise<string> {
  type Field = { name: string; type: { name: string | null; ofType: { name: string | null } | null } };
  const reply = await post(
    url,
    JSON.stringify({
      query: `{ query: __type(name: "Query") { fields { name } }
        product: __type(name: "Product") { fields { name type { name ofType { name } } } } }`,
    }),
  );
  const data = reply.json.data as { query: { fields: Field[] } | null; product: { fields: Field[] } | null };
  if (!answered(reply) || !data.product) {
    throw new Error(`PostGraphile has no Product type: ${JSON.stringify(reply.json).slice(0, 500)}`);
  }
  const bySku = data.query?.fields.find((f) => f.name === 'productBySku');
  const stock = data.product.fields.find((f) => (f.type.name ?? f.type.ofType?.name) === 'Stock');
  if (!bySku || !stock) throw new Error('PostGraphile exposes no productBySku with a Stock relation');
  return (
    `query ($sku: String!) { productBySku(sku: $sku) { id sku name ` +
    `${stock.name} { onHand allocated queueLength unitsOnBackorder } } }`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Targets and phases

type Server = 'service' | 'postgraphile' | 'bare';

interface Target {
  label: string;
  server: Server;
  url: string;
  pid: number | undefined;
  /** Whole HTTP requests, one per sku (or one). */
  requests: Buffer[];
  /** The body of one request, to check the answer and count statements. */
  sample: string;
  /** Why there are no figures (a trusted document that is not served); undefined when measured. */
  skipped?: string;
  /** Statements sent so far by the server, where it counts them. */
  statements?: () => Promise<number>;
  /** Statements per second the server sends by itself (background work), left out of the requests'. */
  background?: number;
  /** Statements per request, counted apart from the load, where the server does not count them. */
  fixedStatements?: number;
}

interface Phase {
  target: Target;
  run: number;
  requests: number;
  rate: number;
  p50: number;
  p99: number;
  /** CPU seconds per wall second (1 = one core) of the server, Postgres and the clients. */
  server: number;
  postgres: number;
  clients: number;
  statementsPerRequest: number;
  errors: number;
  firstError?: string;
}

async function phase(
  load: LoadThread,
  target: Target,
  run: number,
  postmaster: number | undefined,
): Promise<Phase> {
  const url = new URL(target.url);
  let start: CpuReading | undefined;
  let count0: Promise<number> | undefined;
  const report = await load.run(
    {
      label: target.label,
      host: url.hostname,
      port: Number(url.port),
      requests: target.requests,
      clients: CLIENTS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
    },
    () => {
      start = readCpu(target.pid, postmaster);
      count0 = target.statements?.();
    },
  );
  const end = readCpu(target.pid, postmaster);
  const count1 = await target.statements?.();
  if (!start) throw new Error('the clients never started measuring');
  const wall = (end.at - start.at) / 1000;
  const cpu = cpuBetween(start, end);
  const requests = report.latencies.length;
  const result: Phase = {
    target,
    run,
    requests,
    rate: requests / report.seconds,
    p50: percentile(report.latencies, 50),
    p99: percentile(report.latencies, 99),
    server: cpu.server / wall,
    postgres: cpu.postgres / wall,
    clients: cpu.clients / wall,
    statementsPerRequest:
      count0 !== undefined && count1 !== undefined
        ? Math.max(0, count1 - (await count0) - (target.background ?? 0) * wall) / Math.max(1, requests)
        : Number.NaN,
    errors: report.errors,
    ...(report.firstError ? { firstError: report.firstError } : {}),
  };
  progress(
    `run ${run}, ${target.label}: ${fmt(result.rate, 0)} req/s, p50 ${fmt(result.p50, 2)} ms, p99 ` +
      `${fmt(result.p99, 2)} ms; CPU: server ${pct(result.server)}, Postgres ${pct(result.postgres)}, clients ` +
      `${pct(result.clients)}` +
      (Number.isFinite(result.statementsPerRequest)
        ? `; ${fmt(result.statementsPerRequest, 2)} statements/request`
        : '') +
      (result.errors ? `; ${int(result.errors)} FAILED requests, first: ${result.firstError}` : ''),
  );
  return result;
}

const pct = (share: number) => `${fmt(share * 100, 0)}%`;
/** CPU milliseconds per request from a share of a core and a rate. */
const msPerRequest = (share: number, rate: number) => (share * 1000) / rate;

const median = (values: number[]) => percentile(values, 50);
const range = (values: number[]) => `${fmt(Math.min(...values), 0)}–${fmt(Math.max(...values), 0)}`;

/**
 * A TCP proxy in front of Postgres that counts the statements its clients send: simple queries ('Q') and
 * executions of prepared ones ('E'), read from the wire protocol. Only for counting: in the way of a
 * measured server it would add a hop to every statement.
 */
async function statementCounter(databaseUrl: string): Promise<{ url: string; sent: () => number }> {
  const upstream = new URL(databaseUrl);
  let sent = 0;
  const server = net.createServer((client) => {
    const db = net.connect({ host: upstream.hostname, port: Number(upstream.port || 5432) });
    let buf: Buffer = Buffer.alloc(0);
    let startup = true;
    client.on('data', (chunk: Buffer) => {
      db.write(chunk);
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        // The startup message (and an SSL request before it) has no type byte.
        const header = startup ? 8 : 5;
        if (buf.length < header) break;
        const length = startup ? buf.readInt32BE(0) : 1 + buf.readInt32BE(1);
        if (buf.length < length) break;
        if (startup) {
          if (buf.readInt32BE(4) !== 80877103) startup = false;
        } else if (buf[0] === 0x51 || buf[0] === 0x45) {
          sent++;
        }
        buf = buf.subarray(length);
      }
    });
    db.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => db.destroy());
    db.on('close', () => client.destroy());
    client.on('error', () => db.destroy());
    db.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup('close the statement counter', async () => {
    server.close();
  });
  const proxied = new URL(databaseUrl);
  proxied.hostname = '127.0.0.1';
  proxied.port = String((server.address() as net.AddressInfo).port);
  return { url: proxied.toString(), sent: () => sent };
}

/**
 * Statements per request of PostGraphile's document: a second PostGraphile, whose connections go through a
 * counter, answers COUNT_REQUESTS sequential requests (after a few that fill its caches).
 */
async function postgraphileStatements(databaseUrl: string, body: string): Promise<number> {
  const counter = await statementCounter(databaseUrl);
  const counted = await startPostGraphile(counter.url, 'PostGraphile (counting statements)');
  try {
    const ask = async () => {
      const r = await post(counted.url, body);
      if (!answered(r))
        throw new Error(`PostGraphile: HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    };
    for (let i = 0; i < 20; i++) await ask();
    const before = counter.sent();
    for (let i = 0; i < COUNT_REQUESTS; i++) await ask();
    return (counter.sent() - before) / COUNT_REQUESTS;
  } finally {
    await counted.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<boolean> {
  const database = await startDatabase();
  const service: ServiceProcess = await startServiceProcess(database.databaseUrl, { poolMax: POOL_MAX });
  const load0 = os.loadavg()[0]!;
  progress(`machine: ${machineLine(database.machine)}; load average ${fmt(load0, 2)}`);
  const skus = await seed(database);

  // The bare server, checked against what the service's repositories send.
  const bareRpc = await ChildProcessRpc.start('./read-sql-server.ts', 'node:http server');
  const bare = await bareRpc.request<{ url: string; statements: string[] }>({
    cmd: 'start',
    databaseUrl: database.databaseUrl,
    poolMax: POOL_MAX,
  });
  const expected = await serviceStatements(database.databaseUrl, skus[0]!);
  const sameSql =
    expected.length === bare.statements.length && expected.every((sql, i) => sql === bare.statements[i]);
  progress(
    `node:http server at ${bare.url} in process ${bareRpc.pid}: ${bare.statements.length} statements per ` +
      `request, one round trip each, ${sameSql ? 'the same as' : 'NOT the same as'} the service's repositories`,
  );
  if (!sameSql) {
    progress(`the service's: ${JSON.stringify(expected)}`);
    progress(`the bare server's: ${JSON.stringify(bare.statements)}`);
  }

  const postgraphile = await startPostGraphile(database.databaseUrl);
  const pgDocument = await postgraphileDocument(postgraphile.url);
  progress(`PostGraphile document: ${pgDocument}`);

  // Postgres's postmaster, when it runs on this machine: the parent of the benchmark's own backend.
  const backend = (await database.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const postmaster = isPostgres(backend) ? procStat(backend)?.ppid : undefined;

  const serviceUrl = new URL(service.url);
  const pgUrl = new URL(postgraphile.url);
  const bareUrl = new URL(bare.url);
  const serviceStatementsSent = async () => (await service.stats()).queries;
  const bareStatementsSent = async () =>
    (await bareRpc.request<{ statements: number }>({ cmd: 'stats' })).statements;

  const bySku = (query: string, operationName: string | null): GraphQLRequest[] =>
    skus.map((sku) => ({ query, operationName, variables: { sku } }));
  const graphqlTarget = (
    label: string,
    server: Server,
    url: URL,
    pid: number | undefined,
    requests: GraphQLRequest[],
    trusted: boolean,
  ): Target => ({
    label: trusted ? `${label}, trusted document` : label,
    server,
    url: url.toString(),
    pid,
    requests: requests.map((r) => httpRequest(url, graphqlBody(r, trusted))),
    sample: graphqlBody(requests[0]!, trusted),
    ...(server === 'service' ? { statements: serviceStatementsSent } : {}),
  });
  const catalog: GraphQLRequest[] = [
    { query: CATALOG, operationName: 'Catalog', variables: { first: CATALOG_PAGE } },
  ];
  const typename: GraphQLRequest[] = [{ query: TYPENAME, operationName: null, variables: {} }];
  const targets: Target[] = [];
  for (const trusted of [false, true]) {
    targets.push(
      graphqlTarget(
        'ProductAvailability, backorder-api',
        'service',
        serviceUrl,
        service.pid,
        bySku(PRODUCT_AVAILABILITY, 'ProductAvailability'),
        trusted,
      ),
    );
  }
  for (const trusted of [false, true]) {
    targets.push(
      graphqlTarget(
        `productBySku, PostGraphile ${postgraphile.version}`,
        'postgraphile',
        pgUrl,
        postgraphile.pid,
        bySku(pgDocument, null),
        trusted,
      ),
    );
  }
  targets.push({
    label: 'same SQL, node:http + pg',
    server: 'bare',
    url: bare.url,
    pid: bareRpc.pid,
    requests: skus.map((sku) => httpRequest(bareUrl, JSON.stringify({ sku }))),
    sample: JSON.stringify({ sku: skus[0] }),
    statements: bareStatementsSent,
  });
  for (const trusted of [false, true]) {
    targets.push(
      graphqlTarget('{ __typename }, backorder-api', 'service', serviceUrl, service.pid, typename, trusted),
    );
  }
  for (const trusted of [false, true]) {
    targets.push(
      graphqlTarget(
        `Catalog first: ${CATALOG_PAGE}, backorder-api`,
        'service',
        serviceUrl,
        service.pid,
        catalog,
        trusted,
      ),
    );
  }

  // Every target answers its first request with data, or (a trusted document) is set aside.
  const problems: string[] = [];
  for (const target of targets) {
    const reply = await post(target.url, target.sample);
    const ok = target.server === 'bare' ? reply.status === 200 : answered(reply);
    if (ok) continue;
    const why = `HTTP ${reply.status}: ${JSON.stringify(reply.json).slice(0, 200)}`;
    if (target.label.endsWith('trusted document')) {
      target.skipped = NOT_SERVED;
      progress(`${target.label}: ${NOT_SERVED} (${why})`);
    } else {
      problems.push(`${target.label}: the first request failed: ${why}`);
    }
  }
  if (problems.length) throw new Error(problems.join('\n'));
  const measured = targets.filter((t) => !t.skipped);

  const pgStatements = await postgraphileStatements(database.databaseUrl, targets[2]!.sample);
  progress(`PostGraphile: ${fmt(pgStatements, 2)} statements per request, counted on the wire`);
  targets[2]!.fixedStatements = pgStatements;

  // What the service sends while nobody asks anything (live updates, the outbox) is not the requests'.
  const idle0 = await serviceStatementsSent();
  const idleStart = performance.now();
  await sleep(3_000);
  const background = ((await serviceStatementsSent()) - idle0) / ((performance.now() - idleStart) / 1000);
  progress(`backorder-api: ${fmt(background, 1)} statements/s of background work while idle`);
  for (const t of measured) if (t.server === 'service') t.background = background;

  const load = new LoadThread();
  const phases: Phase[] = [];
  for (let r = 1; r <= RUNS; r++) {
    for (const target of measured) phases.push(await phase(load, target, r, postmaster));
  }

  // ---------------------------------------------------------------------------------------------------
  // Summary

  const failures = phases.filter((p) => p.errors > 0);
  if (!sameSql) problems.push("the bare server's statements differ from the service's");
  for (const p of failures)
    problems.push(
      `run ${p.run}, ${p.target.label}: ${int(p.errors)} failed requests, first: ${p.firstError}`,
    );

  const of = (t: Target) => phases.filter((p) => p.target === t);
  const med = (t: Target, f: (p: Phase) => number) => median(of(t).map(f));
  const statementsOf = (t: Target) => t.fixedStatements ?? med(t, (p) => p.statementsPerRequest);

  console.log('');
  console.log(
    `#### Storefront reads side by side: ${CLIENTS} keep-alive clients, ${int(PRODUCTS)} products, ${RUNS} alternating runs of ${fmt(SECONDS, 0)} s (after ${fmt(WARMUP_SECONDS, 0)} s of warm-up) per target`,
  );
  console.log('');
  console.log(`Machine: ${machineLine(database.machine)}; load average at start ${fmt(load0, 2)}.`);
  const ours = versions(REPOSITORY, ['graphql-yoga', 'graphql', 'pg']);
  const theirs = versions(POSTGRAPHILE_DIR, ['grafast', 'grafserv', 'graphql', 'pg']);
  console.log(
    `Runtimes: backorder-api (${ours}) and the node:http server on Node ${process.version} (this script's); ` +
      `PostGraphile ${postgraphile.version} (amber preset; ${theirs}) on Node ${postgraphile.node} (npm package ` +
      `node@22, ${postgraphile.nodeBinary}), ` +
      'NODE_ENV=production; backorder-api started as the other benchmarks start it (production: false). Each server in a process of its own, each with a pool of ' +
      `${POOL_MAX} connections; the clients in a worker thread of this script.`,
  );
  console.log(`backorder-api ${limitsLine()}`);
  console.log(`PostGraphile document: \`${pgDocument}\``);
  console.log(
    `node:http server: ${bare.statements.length} statements per request, one round trip each, the service's ` +
      `own (${sameSql ? 'checked against its repositories' : 'NOT the same as its repositories'}).`,
  );
  console.log('');
  const rows: string[][] = [];
  for (const t of targets) {
    if (t.skipped) {
      rows.push([t.label, t.skipped, '', '', '', '', '', '', '']);
      continue;
    }
    const rate = med(t, (p) => p.rate);
    rows.push([
      t.label,
      `${fmt(rate, 0)} (${range(of(t).map((p) => p.rate))})`,
      fmt(
        med(t, (p) => p.p50),
        2,
      ),
      fmt(
        med(t, (p) => p.p99),
        2,
      ),
      pct(med(t, (p) => p.server)),
      fmt(
        med(t, (p) => msPerRequest(p.server, p.rate)),
        3,
      ),
      `${pct(med(t, (p) => p.postgres))} / ${fmt(
        med(t, (p) => msPerRequest(p.postgres, p.rate)),
        3,
      )}`,
      pct(med(t, (p) => p.clients)),
      `${fmt(statementsOf(t), 2)}${t.fixedStatements === undefined ? '' : '*'}`,
    ]);
  }
  console.log(
    markdownTable(
      [
        'target',
        'req/s median (range)',
        'p50 ms',
        'p99 ms',
        'server CPU (% of a core)',
        'server CPU ms/req',
        'Postgres CPU (% / ms/req)',
        'clients CPU',
        'statements/req',
      ],
      rows,
    ),
  );
  console.log('');
  console.log(
    'Medians over the runs. CPU from /proc (utime + stime) over the measured window; Postgres: the postmaster ' +
      'and all its processes. Statements per request: counted by the server (backorder-api, less its ' +
      `${fmt(background, 1)}/s of background work; node:http); ` +
      `* counted on the wire (simple queries and executions of prepared ones) between a second PostGraphile ` +
      `and Postgres, over ${COUNT_REQUESTS} sequential requests.`,
  );
  const availability = targets[0]!;
  const other = targets[2]!;
  const floor = targets[4]!;
  const ratio = (a: Target, b: Target, f: (p: Phase) => number) => med(a, f) / med(b, f);
  const cpuPerRequest = (p: Phase) => msPerRequest(p.server, p.rate);
  const rateRatio = (b: Target) =>
    fmt(
      ratio(availability, b, (p) => p.rate),
      2,
    );
  const cpuRatio = (b: Target) => fmt(ratio(availability, b, cpuPerRequest), 2);
  console.log(
    `ProductAvailability, backorder-api against PostGraphile: req/s ${rateRatio(other)}x, server CPU per ` +
      `request ${cpuRatio(other)}x; against the node:http server: req/s ${rateRatio(floor)}x, server CPU per ` +
      `request ${cpuRatio(floor)}x. (PostGraphile's document reads the product and its stock row; ` +
      'ProductAvailability also reads the open inbound shipments, for nextRestockAt and estimatedAvailableAt, ' +
      'as the node:http server does.)',
  );
  console.log(
    problems.length === 0
      ? "checks: passed (every request answered 200 with data and no error; the node:http server sends the service's statements)"
      : `checks: FAILED\n${problems
          .slice(0, 20)
          .map((p) => `  - ${p}`)
          .join('\n')}`,
  );
  return problems.length === 0;
}

if (isMainThread) {
  await runBench(main);
} else if ((workerData as Record<string, unknown> | null)?.[LOAD_THREAD]) {
  parentPort!.on('message', (job: LoadJob) => {
    void runLoad(job, () => parentPort!.postMessage({ kind: 'measuring' } satisfies LoadMessage)).then(
      (report) => parentPort!.postMessage({ kind: 'done', report } satisfies LoadMessage),
    );
  });
}
