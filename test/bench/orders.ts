/**
 * bench:orders: checkout throughput on ONE hot product.
 *
 * 1. GraphQL: BENCH_CLIENTS (32) customers, each with its own token, place one-unit orders with
 *    acceptBackorder over HTTP (keep-alive) for BENCH_SECONDS (10). The product starts with BENCH_UNITS units
 *    (default: about a third of what a warm-up says will be ordered), so the stock runs out mid-run and both
 *    the allocation path and the backorder path are timed. The clients run in a worker thread, so that the
 *    service's event loop serves requests only, as it would with clients on other machines.
 * 2. Ceiling: the same transaction as raw SQL (the statements the service sends for such an order, on bare
 *    `pg` clients, one connection per simulated client) on a fresh product with the same stock, for the
 *    same time.
 * 3. Checks on both products: nothing oversold, stock counters equal the order lines, the queue and the
 *    ledger, and every backordered client was told a distinct queue position 1..n.
 *
 * Exit 0 when every check passed, 1 when one failed. Usage: npm run bench:orders
 * Env: BENCH_SECONDS, BENCH_UNITS, BENCH_CLIENTS, BENCH_WARMUP_SECONDS, DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Db } from '../../src/db/connect.ts';
import { writeOrderStatement } from '../../src/db/repos/orders.ts';
import { ledgerTotals } from '../../src/db/repos/stock.ts';
import { commitWithEvents } from '../../src/db/transaction.ts';
import { requestHash } from '../../src/domain/orders.ts';
import {
  allMs,
  type Bench,
  type BenchProduct,
  CheckFailed,
  ClientThread,
  createProduct,
  emptyResult,
  fmt,
  int,
  intEnv,
  type LoadResult,
  machineLine,
  markdownTable,
  numberEnv,
  onCleanup,
  orders,
  percentile,
  progress,
  rate,
  runBench,
  startBench,
  timed,
  watchLoop,
} from './common.ts';

const CLIENTS = intEnv('BENCH_CLIENTS', 32);
const SECONDS = numberEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = numberEnv('BENCH_WARMUP_SECONDS', 2);
const FIXED_UNITS = process.env.BENCH_UNITS ? intEnv('BENCH_UNITS', 3000, 0) : undefined;
const TARGET_RATIO = 0.5;

async function graphqlLoad(
  bench: Bench,
  clients: ClientThread,
  product: BenchProduct,
  tokens: string[],
  seconds: number,
  label: string,
): Promise<LoadResult> {
  const queries0 = bench.app.queries.count;
  const result = await watchLoop(() =>
    clients.run({ url: bench.url, tokens, productId: product.id, seconds, label }),
  );
  result.statementsPerOrder = (bench.app.queries.count - queries0) / Math.max(1, orders(result));
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// The ceiling: the service's transaction as raw SQL on bare connections. The statements are those the
// service sends for a one-line order: BEGIN, claimOrder, lockStock, writeOrder (the very statement, compiled
// from the repository), then the change log with COMMIT in one round trip.

const CLAIM_SQL =
  'insert into "customer_order" ("customer_id", "idempotency_key", "request_hash") values ($1, $2, $3) ' +
  'on conflict ("customer_id", "idempotency_key") do nothing returning "id"';

const LOCK_SQL =
  'select "s"."product_id" as "productId", "s"."on_hand" as "onHand", "s"."allocated", ' +
  '"s"."queue_length" as "queueLength", "s"."units_on_backorder" as "unitsOnBackorder", "p"."sku", ' +
  '"p"."name", "p"."backorder_policy" as "backorderPolicy", "p"."backorder_limit" as "backorderLimit", ' +
  '"p"."low_stock_threshold" as "lowStockThreshold", ' +
  '"p"."restock_lead_time_days" as "restockLeadTimeDays", "p"."created_at" as "createdAt" ' +
  'from "stock" as "s" inner join "product" as "p" on "p"."id" = "s"."product_id" ' +
  'where "s"."product_id" = any($1) order by "s"."product_id" for update of "s"';

interface LockedRow {
  onHand: number;
  allocated: number;
  queueLength: number;
  backorderPolicy: string;
  backorderLimit: number | null;
}

/** Connects `count` bare clients (closed by the caller, or by cleanup). */
async function connectClients(databaseUrl: string, count: number): Promise<pg.Client[]> {
  const clients = await Promise.all(
    Array.from({ length: count }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-ceiling' });
      client.on('error', () => {});
      await client.connect();
      return client;
    }),
  );
  onCleanup('close the raw SQL connections', async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  });
  return clients;
}

function ceilingLoad(
  compiler: Db,
  clients: pg.Client[],
  product: BenchProduct,
  seconds: number,
  label: string,
): Promise<LoadResult> {
  const result = emptyResult(label);
  const tag = randomBytes(4).toString('hex');
  const hash = requestHash({
    idempotencyKey: '',
    acceptBackorder: true,
    lines: [{ productId: product.dbId, quantity: 1 }],
  });
  return watchLoop(() =>
    timed(result, seconds, clients.length, progress, async (c, stopped, t0) => {
      const client = clients[c]!;
      const customer = `bench-raw-${c}`;
      for (let seq = 0; !stopped(); seq++) {
        const start = performance.now();
        try {
          await client.query('begin');
          const key = `${label}-${tag}-${seq}`;
          const claimed = await client.query<{ id: string }>(CLAIM_SQL, [customer, key, hash]);
          const orderId = claimed.rows[0]?.id;
          if (orderId === undefined) throw new Error('idempotency key already taken');
          const locked = await client.query<LockedRow>(LOCK_SQL, [[product.dbId]]);
          const stock = locked.rows[0];
          if (stock?.backorderPolicy !== 'ALLOW' || stock.backorderLimit !== null) {
            throw new Error('the benchmark product must allow uncapped backorders');
          }
          // planOrder for one unit: no queue jumping, take what is available, backorder the rest.
          const available = stock.queueLength > 0 ? 0 : Math.max(0, stock.onHand - stock.allocated);
          const taken = Math.min(1, available);
          const rest = 1 - taken;
          const write = writeOrderStatement({
            orderId: Number(orderId),
            customerId: customer,
            lines: [{ position: 0, productId: product.dbId, quantity: 1, taken, rest }],
            // The product has no cap of its own: the service counts what the customer holds of it for the
            // default per-customer cap (MAX_PER_CUSTOMER_DEFAULT), in this very statement.
            heldOf: [product.dbId],
          }).compile(compiler);
          const written = await client.query<{ backorderId: number | null }>(write.sql, [
            ...write.parameters,
          ]);
          const backorderId = written.rows[0]?.backorderId;
          await client.query(
            commitWithEvents([
              {
                type: 'OrderPlaced',
                orderId: Number(orderId),
                customerId: customer,
                productIds: [product.dbId],
                taken,
                backorders: backorderId
                  ? [{ id: Number(backorderId), productId: product.dbId, quantity: rest }]
                  : [],
              },
            ]),
          );
          const ms = performance.now() - start;
          if (taken === 1) {
            result.allocated++;
            result.allocatedMs.push(ms);
            result.stockOutAt = (performance.now() - t0) / 1000;
          } else {
            result.backordered++;
            result.backorderedMs.push(ms);
          }
        } catch (err) {
          result.errors.push(err instanceof Error ? err.message : String(err));
          await client.query('rollback').catch(() => {});
        }
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Checks

interface ProductState {
  onHand: number;
  allocated: number;
  queueLength: number;
  unitsOnBackorder: number;
  lines: number;
  linesWithUnit: number;
  lineUnits: number;
  queued: number;
  missing: number;
  ledgerOnHand: number;
  ledgerAllocated: number;
}

async function productState(bench: Bench, productId: number): Promise<ProductState> {
  const { rows } = await bench.pool.query<Omit<ProductState, 'ledgerOnHand' | 'ledgerAllocated'>>(
    `SELECT s.on_hand AS "onHand", s.allocated, s.queue_length AS "queueLength",
       s.units_on_backorder AS "unitsOnBackorder",
       (SELECT count(*) FROM order_line l WHERE l.product_id = s.product_id)::int AS lines,
       (SELECT count(*) FROM order_line l WHERE l.product_id = s.product_id AND l.quantity_taken = 1)::int
         AS "linesWithUnit",
       (SELECT coalesce(sum(l.quantity_taken + coalesce(b.quantity_allocated, 0)), 0) FROM order_line l
         LEFT JOIN backorder b ON b.order_line_id = l.id WHERE l.product_id = s.product_id)::int AS "lineUnits",
       (SELECT count(*) FROM backorder b
         WHERE b.product_id = s.product_id AND b.status IN ('WAITING', 'PARTIALLY_ALLOCATED'))::int AS queued,
       (SELECT coalesce(sum(b.quantity - b.quantity_allocated), 0) FROM backorder b
         WHERE b.product_id = s.product_id AND b.status IN ('WAITING', 'PARTIALLY_ALLOCATED'))::int AS missing
     FROM stock s WHERE s.product_id = $1`,
    [productId],
  );
  const row = rows[0];
  if (!row) throw new CheckFailed(`product ${productId} has no stock row`);
  const ledger = await ledgerTotals(bench.db, productId);
  return { ...row, ledgerOnHand: ledger.onHand, ledgerAllocated: ledger.allocated };
}

/** Every check on a product after a load phase: the problems found and the oversold units. */
function check(
  state: ProductState,
  units: number,
  seen: LoadResult,
  checkPositions: boolean,
): { problems: string[]; oversold: number } {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const oversold = Math.max(0, state.allocated - state.onHand, state.lineUnits - state.onHand);
  expect(oversold === 0, `oversold ${oversold} units (onHand ${state.onHand}, allocated ${state.allocated})`);
  expect(state.onHand === units, `onHand ${state.onHand}, expected ${units}`);
  expect(
    state.allocated === state.linesWithUnit,
    `allocated ${state.allocated} but ${state.linesWithUnit} one-unit orders got a unit`,
  );
  expect(
    state.allocated === Math.min(units, state.lines),
    `allocated ${state.allocated} of ${units} units with ${state.lines} orders: units left while orders wait`,
  );
  expect(
    state.ledgerOnHand === state.onHand && state.ledgerAllocated === state.allocated,
    `counters (onHand ${state.onHand}, allocated ${state.allocated}) differ from the ledger ` +
      `(onHand ${state.ledgerOnHand}, allocated ${state.ledgerAllocated})`,
  );
  expect(
    state.queueLength === state.queued && state.unitsOnBackorder === state.missing,
    `queue counters (${state.queueLength}, ${state.unitsOnBackorder}) differ from the backorders ` +
      `(${state.queued}, ${state.missing})`,
  );
  expect(
    state.lines - state.linesWithUnit === state.queued,
    `${state.lines - state.linesWithUnit} orders without a unit but ${state.queued} backorders waiting`,
  );
  expect(
    seen.allocated === state.linesWithUnit && seen.backordered === state.queued,
    `clients saw ${seen.allocated} allocated / ${seen.backordered} backordered, the database has ` +
      `${state.linesWithUnit} / ${state.queued}`,
  );
  if (checkPositions) {
    const sorted = [...seen.positions].sort((a, b) => a - b);
    const firstWrong = sorted.findIndex((p, i) => p !== i + 1);
    expect(
      firstWrong === -1,
      `queue positions told to clients are not exactly 1..${sorted.length} ` +
        `(rank ${firstWrong + 1} was told ${sorted[firstWrong]})`,
    );
  }
  return { problems, oversold };
}

// ---------------------------------------------------------------------------------------------------------

function describe(r: LoadResult, loop: string): void {
  const all = allMs(r);
  const p = (values: number[], q: number) => `${fmt(percentile(values, q), 1)} ms`;
  console.log(
    `${r.label}: ${int(orders(r))} orders in ${fmt(r.seconds, 2)} s = ${fmt(rate(r))} orders/s; ` +
      `latency p50 ${p(all, 50)}, p99 ${p(all, 99)}`,
  );
  console.log(
    `  allocated ${int(r.allocated)} (p50 ${p(r.allocatedMs, 50)}, p99 ${p(r.allocatedMs, 99)}), ` +
      `backordered ${int(r.backordered)} (p50 ${p(r.backorderedMs, 50)}, p99 ${p(r.backorderedMs, 99)}); ` +
      `stock ran out at ${r.stockOutAt === null ? 'n/a' : `${fmt(r.stockOutAt)} s`}`,
  );
  console.log(
    `  ${loop} event loop busy ${fmt((r.loopBusy ?? 0) * 100, 0)}%, delay p99 ${fmt(r.loopDelayP99Ms ?? 0, 1)} ms` +
      (r.statementsPerOrder === undefined ? '' : `; ${fmt(r.statementsPerOrder)} statements per order`),
  );
  if (r.errors.length) console.log(`  ${r.errors.length} errors, first: ${r.errors[0]}`);
}

async function main(): Promise<boolean> {
  const bench = await startBench({ poolMax: CLIENTS + 8 });
  const load0 = os.loadavg()[0]!;
  progress(`machine: ${machineLine(bench.machine)}; load average ${fmt(load0, 2)}`);
  const staff = await bench.token('staff', 'bench-staff');
  const tokens = await Promise.all(
    Array.from({ length: CLIENTS }, (_, c) => bench.token('customer', `bench-customer-${c}`)),
  );
  const run = randomBytes(3).toString('hex');
  const clientThread = new ClientThread();

  // Warm-up: JIT on both sides, connections, and an estimate of the rate to size the stock.
  const warm = await createProduct(bench, staff, `BENCH-WARM-${run}`, 50);
  progress(`warm-up: ${WARMUP_SECONDS} s of GraphQL orders`);
  const warmup = await graphqlLoad(bench, clientThread, warm, tokens, WARMUP_SECONDS, 'warm-up');
  if (warmup.errors.length) throw new Error(`warm-up failed: ${warmup.errors[0]}`);
  const units = FIXED_UNITS ?? Math.max(100, Math.round((rate(warmup) * SECONDS) / 3));
  progress(
    `warm-up: ${fmt(rate(warmup))} orders/s; each product starts with ${int(units)} units` +
      (FIXED_UNITS === undefined ? ' (a third of the estimate; BENCH_UNITS overrides)' : ''),
  );

  const hot = await createProduct(bench, staff, `BENCH-HOT-${run}`, units);
  progress(`GraphQL: ${CLIENTS} clients for ${SECONDS} s on ${hot.sku}`);
  const gql = await graphqlLoad(bench, clientThread, hot, tokens, SECONDS, 'GraphQL');

  const connections = await connectClients(bench.databaseUrl, CLIENTS);
  progress('raw SQL warm-up: 1 s');
  await ceilingLoad(bench.db, connections, warm, Math.min(1, WARMUP_SECONDS), 'raw SQL warm-up');
  const bare = await createProduct(bench, staff, `BENCH-RAW-${run}`, units);
  progress(`raw SQL: ${CLIENTS} pg connections for ${SECONDS} s on ${bare.sku}`);
  const ceiling = await ceilingLoad(bench.db, connections, bare, SECONDS, 'raw SQL');
  await Promise.all(connections.map((c) => c.end()));

  progress('checking both products');
  const gqlCheck = check(await productState(bench, hot.dbId), units, gql, true);
  const rawCheck = check(await productState(bench, bare.dbId), units, ceiling, false);
  const problems = [
    ...gql.errors.slice(0, 5).map((e) => `GraphQL request failed: ${e}`),
    ...(gql.errors.length > 5 ? [`... and ${gql.errors.length - 5} more failed GraphQL requests`] : []),
    ...ceiling.errors.slice(0, 5).map((e) => `raw SQL transaction failed: ${e}`),
    ...gqlCheck.problems.map((p) => `GraphQL product: ${p}`),
    ...rawCheck.problems.map((p) => `raw SQL product: ${p}`),
  ];
  const oversold = gqlCheck.oversold + rawCheck.oversold;
  const ratio = rate(gql) / rate(ceiling);

  console.log('');
  describe(gql, 'service');
  describe(ceiling, 'raw SQL client');
  console.log('');
  console.log(`oversold: ${oversold}`);
  console.log(
    problems.length === 0
      ? 'checks: passed (units allocated = one-unit orders served = min(stock, orders); counters = ledger; ' +
          'queue counters = waiting backorders; queue positions told were 1..n, each once)'
      : `checks: FAILED\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );
  console.log(
    `GraphQL / raw SQL: ${fmt(ratio, 2)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'missed'})`,
  );

  const row = (what: string, r: LoadResult) => [
    what,
    fmt(rate(r), 0),
    fmt(percentile(allMs(r), 50), 1),
    fmt(percentile(allMs(r), 99), 1),
    int(r.allocated),
    int(r.backordered),
  ];
  console.log('');
  console.log(`#### placeOrder on one hot product: ${CLIENTS} clients, ${fmt(SECONDS, 0)} s`);
  console.log('');
  console.log(`Machine: ${machineLine(bench.machine)}; load average at start ${fmt(load0, 2)}.`);
  console.log('');
  console.log(
    markdownTable(
      ['path', 'orders/s', 'p50 ms', 'p99 ms', 'allocated', 'backordered'],
      [
        row('GraphQL `placeOrder` over HTTP', gql),
        row(`same transaction as raw SQL (\`pg\`, ${CLIENTS} connections)`, ceiling),
      ],
    ),
  );
  console.log('');
  console.log(
    `Each product started with ${int(units)} units. GraphQL / raw SQL: **${fmt(ratio, 2)}** ` +
      `(target >= ${TARGET_RATIO}). Oversold: **${oversold}**. Counters equal the ledger: ` +
      `**${problems.length === 0 ? 'yes' : 'NO'}**.`,
  );
  return problems.length === 0 && oversold === 0;
}

await runBench(main);
