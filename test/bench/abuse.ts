/**
 * bench:abuse: whether a few customers sending the most expensive documents the limits accept can starve
 * everyone else.
 *
 * BENCH_CUSTOMERS (8) customers, each with 100 orders of 50 lines (every line partly on backorder, so each
 * carries a queue position and an ETA), send back to back, with rate limits off: their whole order history
 * in one page (the contract's MyOrders, first: 100, about 1 MB and a cost of 50,903, within the customer
 * budget of 100,000) and, every 5th request (the first included), the same page twice under aliases (cost over the budget:
 * refused before it runs). Meanwhile an anonymous probe asks ProductAvailability, one request at a time.
 * The service runs in a process of its own (fanout-server.ts), once with admission control at its
 * defaults and once without, BENCH_SECONDS (30) each.
 *
 * Reported per phase: the probe's p50/p99, the service's peak RSS and its growth over the idle service,
 * what the customers got (answered, refused over budget, refused as OVERLOADED), and the admission caps.
 * Targets with admission control (reported, never a failure): probe p99 < 300 ms, RSS growth < 300 MB.
 * Check (exit 1): no answer other than 200, a cost refusal or OVERLOADED; every probe answered.
 *
 * Usage: npm run bench:abuse
 * Env: BENCH_SECONDS, BENCH_CUSTOMERS, DATABASE_URL.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { MyOrdersDocument, ProductAvailabilityDocument } from '../generated/graphql.ts';
import {
  type BenchDatabase,
  CheckFailed,
  fmt,
  int,
  intEnv,
  machineLine,
  markdownTable,
  numberEnv,
  onCleanup,
  percentile,
  progress,
  runBench,
  startDatabase,
  startServiceProcess,
} from './common.ts';

const CUSTOMERS = intEnv('BENCH_CUSTOMERS', 8);
const SECONDS = numberEnv('BENCH_SECONDS', 30);
const ORDERS = 100;
const LINES = 50;
const PROBE_SKU = 'ABUSE-1';
const TARGET_P99_MS = 300;
const TARGET_RSS_MB = 300;

// The service's request log would drown the progress lines (set LOG_LEVEL to see it).
process.env.LOG_LEVEL ??= 'warn';

const MY_ORDERS = print(MyOrdersDocument);
/** The same page twice under aliases: 101,806, over the customer budget, refused before it runs. */
const OVER_BUDGET = `query Twice($first: Int!) { a: viewer { ...Page } b: viewer { ...Page } }
fragment Page on Viewer {
  customerId
  orders(first: $first) {
    edges { node { id status createdAt lines { quantity quantityAllocated product { sku name }
      backorder { id status queuePosition estimatedAvailableAt } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const PROBE = print(ProductAvailabilityDocument);

/** Products, and per customer 100 orders of one unit on backorder per line, by SQL: fast and exact. */
async function seed(database: BenchDatabase): Promise<void> {
  const { pool } = database;
  await migrateToLatest(database.db);
  await pool.query(
    `INSERT INTO product (sku, name) SELECT 'ABUSE-' || g, 'Abuse ' || g FROM generate_series(1, $1::int) g`,
    [LINES],
  );
  await pool.query(`INSERT INTO stock (product_id) SELECT id FROM product`);
  await pool.query(
    `INSERT INTO inbound_shipment (product_id, quantity, expected_at)
     SELECT id, 200, now() + interval '5 days' FROM product`,
  );
  await pool.query(
    `WITH o AS (
       INSERT INTO customer_order (customer_id, idempotency_key, request_hash)
       SELECT 'abuse-' || c, 'seed-' || n, 'seed'
       FROM generate_series(1, $1::int) c, generate_series(1, $2::int) n ORDER BY n, c
       RETURNING id, customer_id
     ), l AS (
       INSERT INTO order_line (order_id, position, product_id, quantity, quantity_taken)
       SELECT o.id, p.position, p.id, 2, 0
       FROM o, (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS position FROM product) p
       ORDER BY o.id, p.position
       RETURNING id, order_id, product_id
     )
     INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity)
     SELECT l.order_id, l.id, l.product_id, o.customer_id, 2 FROM l JOIN o ON o.id = l.order_id ORDER BY l.id`,
    [CUSTOMERS, ORDERS],
  );
  await pool.query(
    `UPDATE stock s SET queue_length = q.n, units_on_backorder = q.units
     FROM (SELECT product_id, count(*)::int AS n, sum(quantity)::int AS units FROM backorder GROUP BY product_id) q
     WHERE s.product_id = q.product_id`,
  );
  await pool.query('ANALYZE');
}

/** A POST whose answer is counted, not parsed (the big pages would otherwise cost this process time). */
function post(
  agent: http.Agent,
  url: URL,
  body: string,
  token?: string,
): Promise<{ status: number; bytes: number; head: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          'content-length': Buffer.byteLength(body),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let bytes = 0;
        let head = '';
        res.on('data', (chunk: Buffer) => {
          if (head.length < 400) head += chunk.toString('utf8', 0, Math.min(chunk.length, 400));
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, head }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface PhaseResult {
  label: string;
  probeMs: number[];
  probeErrors: number;
  idleRss: number;
  peakRss: number;
  answered: number;
  answeredBytes: number;
  overBudget: number;
  overloaded: number;
  unexpected: string[];
}

async function phase(database: BenchDatabase, admission: boolean, tokens: string[]): Promise<PhaseResult> {
  const label = admission ? 'admission control on (defaults)' : 'admission control off';
  const service = await startServiceProcess(database.databaseUrl, {
    poolMax: 20,
    abuse: {
      ...DEFAULT_ABUSE_LIMITS,
      admission: { ...DEFAULT_ABUSE_LIMITS.admission, enabled: admission },
    },
  });
  const url = new URL(service.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  onCleanup('close the abuse clients', async () => agent.destroy());
  const result: PhaseResult = {
    label,
    probeMs: [],
    probeErrors: 0,
    idleRss: 0,
    peakRss: 0,
    answered: 0,
    answeredBytes: 0,
    overBudget: 0,
    overloaded: 0,
    unexpected: [],
  };

  // Warm up (plans, caches) with one page and a few probes, then take the idle footprint.
  await post(agent, url, JSON.stringify({ query: MY_ORDERS, variables: { first: 100 } }), tokens[0]);
  for (let i = 0; i < 5; i++) {
    await post(agent, url, JSON.stringify({ query: PROBE, variables: { sku: PROBE_SKU } }));
  }
  result.idleRss = (await service.stats({ gc: true })).rss;
  result.peakRss = result.idleRss;
  progress(`${label}: idle RSS ${fmt(result.idleRss / 2 ** 20)} MB; load for ${fmt(SECONDS, 0)} s`);

  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  const running = () => performance.now() < until;

  const customer = async (token: string) => {
    for (let n = 0; running(); n++) {
      const refusedByCost = n % 5 === 0;
      const body = JSON.stringify({
        query: refusedByCost ? OVER_BUDGET : MY_ORDERS,
        variables: { first: 100 },
      });
      try {
        const reply = await post(agent, url, body, token);
        if (reply.status === 200 && !refusedByCost) {
          result.answered++;
          result.answeredBytes += reply.bytes;
        } else if (reply.status === 400 && reply.head.includes('"cost"')) result.overBudget++;
        else if (reply.status === 503 && reply.head.includes('OVERLOADED')) result.overloaded++;
        else result.unexpected.push(`HTTP ${reply.status}: ${reply.head.slice(0, 160)}`);
      } catch (err) {
        result.unexpected.push(err instanceof Error ? err.message : String(err));
      }
    }
  };

  const probe = async () => {
    const body = JSON.stringify({ query: PROBE, variables: { sku: PROBE_SKU } });
    while (running()) {
      const start = performance.now();
      try {
        const reply = await post(agent, url, body);
        if (reply.status === 200 && !reply.head.includes('"errors"'))
          result.probeMs.push(performance.now() - start);
        else result.probeErrors++;
      } catch {
        result.probeErrors++;
      }
      await sleep(20);
    }
  };

  const sampler = async () => {
    let lastReport = performance.now();
    while (running()) {
      const { rss } = await service.stats();
      result.peakRss = Math.max(result.peakRss, rss);
      if (performance.now() - lastReport >= 5000) {
        lastReport = performance.now();
        progress(
          `${label}: ${fmt((performance.now() - t0) / 1000, 0)} s, pages ${int(result.answered)}, ` +
            `OVERLOADED ${int(result.overloaded)}, probe p99 so far ${fmt(percentile(result.probeMs, 99))} ms, ` +
            `peak RSS ${fmt(rss / 2 ** 20)} MB`,
        );
      }
      await sleep(200);
    }
  };

  await Promise.all([...tokens.map(customer), probe(), sampler()]);
  agent.destroy();
  await service.stop();
  return result;
}

async function main(): Promise<boolean> {
  const database = await startDatabase();
  progress(`seeding ${CUSTOMERS} customers x ${ORDERS} orders x ${LINES} lines`);
  await seed(database);
  const tokens = await Promise.all(
    Array.from({ length: CUSTOMERS }, (_, i) => database.token('customer', `abuse-${i + 1}`)),
  );

  const on = await phase(database, true, tokens);
  const off = await phase(database, false, tokens);

  const mb = (bytes: number) => bytes / 2 ** 20;
  const row = (r: PhaseResult) => [
    r.label,
    fmt(percentile(r.probeMs, 50)),
    fmt(percentile(r.probeMs, 99)),
    int(r.probeMs.length),
    fmt(mb(r.peakRss), 0),
    fmt(mb(r.peakRss - r.idleRss), 0),
    int(r.answered),
    `${fmt(r.answeredBytes / Math.max(1, r.answered) / 1e6, 2)} MB`,
    int(r.overBudget),
    int(r.overloaded),
  ];
  const a = DEFAULT_ABUSE_LIMITS.admission;
  console.log('');
  console.log(
    `#### ${CUSTOMERS} customers sending their whole order history (100 orders x 50 lines) back to back, ${fmt(SECONDS, 0)} s per phase`,
  );
  console.log('');
  console.log(`Machine: ${machineLine(database.machine)}.`);
  console.log('');
  console.log(
    markdownTable(
      [
        'service',
        'probe p50 ms',
        'probe p99 ms',
        'probes',
        'peak RSS MB',
        'RSS growth MB',
        'pages answered',
        'page size',
        'refused: cost',
        'refused: OVERLOADED',
      ],
      [row(on), row(off)],
    ),
  );
  console.log('');
  console.log(
    `Caps: rate limits off; admission cost in flight ${int(a.costInFlight)} in total and ${int(a.costPerCaller)} ` +
      `per caller, fast lane up to ${int(a.fastLaneCost)}, longest wait ${int(a.maxWaitMs)} ms; customer budget ` +
      `100,000 (a page costs 50,903; two under aliases are refused).`,
  );
  const p99 = percentile(on.probeMs, 99);
  const growth = mb(on.peakRss - on.idleRss);
  console.log(
    `With admission control: probe p99 **${fmt(p99)} ms** (target < ${TARGET_P99_MS}), RSS growth ` +
      `**${fmt(growth, 0)} MB** (target < ${TARGET_RSS_MB}).`,
  );
  console.log(
    `bench:abuse ${JSON.stringify({
      customers: CUSTOMERS,
      seconds: SECONDS,
      on: { p50: percentile(on.probeMs, 50), p99, peakRssMb: mb(on.peakRss), rssGrowthMb: growth },
      off: {
        p50: percentile(off.probeMs, 50),
        p99: percentile(off.probeMs, 99),
        peakRssMb: mb(off.peakRss),
        rssGrowthMb: mb(off.peakRss - off.idleRss),
      },
      caps: a,
    })}`,
  );
  for (const r of [on, off]) {
    if (r.unexpected.length > 0) {
      throw new CheckFailed(
        `${r.label}: ${r.unexpected.length} unexpected answers, first: ${r.unexpected[0]}`,
      );
    }
    if (r.probeErrors > 0) throw new CheckFailed(`${r.label}: ${r.probeErrors} probes failed`);
  }
  return true;
}

await runBench(main);
