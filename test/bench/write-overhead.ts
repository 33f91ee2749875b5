/**
 * bench:write-overhead: what availability subscribers cost the checkout.
 *
 * bench:orders' load (BENCH_CLIENTS (32) customers placing one-unit orders with acceptBackorder on ONE hot
 * product over HTTP, from a worker thread, for BENCH_SECONDS (10)) runs in phases that alternate: with no
 * subscriber, then with BENCH_WATCHERS (1,000) anonymous subscribers of that same product (the contract's
 * WatchAvailability, one graphql-ws connection each, in this process's main thread), BENCH_ROUNDS (2) times:
 * none / with / none / with. The service runs in a process of its own (fanout-server.ts) in every phase,
 * so that the layout is the same for both. Each phase has a fresh product that starts with BENCH_UNITS
 * units (default: about a third of what a warm-up says will be ordered), so the stock runs out mid-phase.
 *
 * Reported per phase and as means: orders/s, latency p50/p99, the service's event loop, statements per
 * order; for the phases with subscribers: messages received and their rate per subscriber (at most one per
 * 100 ms). Target (reported, never a failure): orders/s with subscribers >= 0.9 x without.
 * Checks (exit 1 on failure): no order failed; per product nothing oversold, counters equal to the order
 * lines, the queue and the ledger, queue positions told 1..n; every subscriber's last message equals the
 * product's availability after the phase.
 *
 * Usage: npm run bench:write-overhead
 * Env: BENCH_SECONDS, BENCH_WATCHERS, BENCH_ROUNDS, BENCH_CLIENTS, BENCH_UNITS, BENCH_WARMUP_SECONDS,
 * DATABASE_URL.
 */

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import { ledgerTotals } from '../../src/db/repos/stock.ts';
import { WatchAvailabilityDocument } from '../generated/graphql.ts';
import {
  allMs,
  type BenchDatabase,
  type BenchProduct,
  ClientThread,
  createProductVia,
  fmt,
  type GraphQLClient,
  graphqlClient,
  inBatches,
  int,
  intEnv,
  type LiveSubscriber,
  type LoadResult,
  liveSubscribe,
  loopBusy,
  machineLine,
  markdownTable,
  numberEnv,
  orders,
  percentile,
  progress,
  rate,
  runBench,
  type ServiceProcess,
  startDatabase,
  startServiceProcess,
} from './common.ts';

const CLIENTS = intEnv('BENCH_CLIENTS', 32);
const SECONDS = numberEnv('BENCH_SECONDS', 10);
const WATCHERS = intEnv('BENCH_WATCHERS', 1000);
const ROUNDS = intEnv('BENCH_ROUNDS', 2);
const WARMUP_SECONDS = numberEnv('BENCH_WARMUP_SECONDS', 2);
const FIXED_UNITS = process.env.BENCH_UNITS ? intEnv('BENCH_UNITS', 3000, 0) : undefined;
const BATCH = 200;
const TARGET_RATIO = 0.9;
/** The service's merge window: at most one message per subscription per window. */
const MERGE_WINDOW_MS = 100;
/** Longest wait for the subscribers' initial messages, and for them to reach the final state. */
const DEADLINE_MS = 60_000;
const SETTLE_MS = 5_000;

/** The contract's operation, as real clients send it. */
const WATCH_AVAILABILITY = print(WatchAvailabilityDocument);

/** The same selection as a query: what a subscriber must hold once the product stops changing. */
const PRODUCT_AVAILABILITY = /* GraphQL */ `
  query BenchAvailability($sku: String!) {
    product(sku: $sku) {
      id
      availability {
        status
        quantityAvailable
        backorderable
        queueLength
        unitsOnBackorder
        nextRestockAt
      }
    }
  }
`;

interface ProductView {
  id: string;
  availability: Record<string, unknown>;
}

interface Watch {
  productAvailabilityChanged: ProductView;
}

type Mode = 'none' | 'with';

interface Phase {
  mode: Mode;
  round: number;
  label: string;
  units: number;
  load: LoadResult;
  /** Share of the phase the service's event loop was busy; statements per order; snapshots built. */
  loopBusy: number;
  statementsPerOrder: number;
  snapshots: number;
  /** With subscribers: messages that arrived during the load, per subscriber; shortest gap between two. */
  messages?: number[];
  /** Messages that arrived after the load ended (the last change). */
  lateMessages?: number;
  shortestGapMs?: number;
  /** Time from the end of the load until every subscriber held the final state. */
  settleMs?: number;
  problems: string[];
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

// ---------------------------------------------------------------------------------------------------------
// Subscribers

async function connectWatchers(
  url: string,
  product: BenchProduct,
  label: string,
): Promise<LiveSubscriber<Watch>[]> {
  const start = performance.now();
  return inBatches(
    WATCHERS,
    BATCH,
    async () => {
      const watcher = liveSubscribe<Watch>(url, undefined, WATCH_AVAILABILITY, { productId: product.id });
      if (
        !(await within(
          watcher.first.catch(() => {}),
          DEADLINE_MS,
        ))
      ) {
        watcher.errors.push(`no initial message within ${DEADLINE_MS} ms`);
      }
      return watcher;
    },
    (done) =>
      progress(
        `${label}: ${int(done)} of ${int(WATCHERS)} subscribers have the current availability ` +
          `(${fmt((performance.now() - start) / 1000, 1)} s)`,
      ),
  );
}

/** Waits until every subscriber's last message equals `final`; the time it took, or null on timeout. */
async function settle(
  watchers: LiveSubscriber<Watch>[],
  final: string,
  from: number,
): Promise<number | null> {
  const deadline = from + SETTLE_MS;
  for (;;) {
    const now = performance.now();
    const behind = watchers.filter(
      (w) => JSON.stringify(w.messages.at(-1)?.data?.productAvailabilityChanged) !== final,
    );
    if (behind.length === 0) return now - from;
    if (now > deadline) return null;
    await sleep(20);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Checks on the product after a phase

async function checkProduct(
  database: BenchDatabase,
  product: BenchProduct,
  units: number,
  load: LoadResult,
): Promise<string[]> {
  const { rows } = await database.pool.query<{
    onHand: number;
    allocated: number;
    queueLength: number;
    unitsOnBackorder: number;
    lines: number;
    taken: number;
    queued: number;
    missing: number;
  }>(
    `SELECT s.on_hand AS "onHand", s.allocated, s.queue_length AS "queueLength",
       s.units_on_backorder AS "unitsOnBackorder",
       (SELECT count(*) FROM order_line l WHERE l.product_id = s.product_id)::int AS lines,
       (SELECT count(*) FROM order_line l WHERE l.product_id = s.product_id AND l.quantity_taken = 1)::int
         AS taken,
       (SELECT count(*) FROM backorder b
         WHERE b.product_id = s.product_id AND b.status IN ('WAITING', 'PARTIALLY_ALLOCATED'))::int AS queued,
       (SELECT coalesce(sum(b.quantity - b.quantity_allocated), 0) FROM backorder b
         WHERE b.product_id = s.product_id AND b.status IN ('WAITING', 'PARTIALLY_ALLOCATED'))::int AS missing
     FROM stock s WHERE s.product_id = $1`,
    [product.dbId],
  );
  const state = rows[0];
  if (!state) return [`product ${product.sku} has no stock row`];
  const ledger = await ledgerTotals(database.db, product.dbId);
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  expect(
    state.allocated <= state.onHand,
    `oversold ${state.allocated - state.onHand} units (onHand ${state.onHand}, allocated ${state.allocated})`,
  );
  expect(state.onHand === units, `onHand ${state.onHand}, expected ${units}`);
  expect(
    state.allocated === state.taken && state.allocated === Math.min(units, state.lines),
    `allocated ${state.allocated}, ${state.taken} one-unit orders got a unit, ${state.lines} orders, ` +
      `${units} units: expected min(units, orders) for both`,
  );
  expect(
    ledger.onHand === state.onHand && ledger.allocated === state.allocated,
    `counters (onHand ${state.onHand}, allocated ${state.allocated}) differ from the ledger ` +
      `(onHand ${ledger.onHand}, allocated ${ledger.allocated})`,
  );
  expect(
    state.queueLength === state.queued && state.unitsOnBackorder === state.missing,
    `queue counters (${state.queueLength}, ${state.unitsOnBackorder}) differ from the backorders ` +
      `(${state.queued}, ${state.missing})`,
  );
  expect(
    state.lines - state.taken === state.queued,
    `${state.lines - state.taken} orders without a unit but ${state.queued} backorders waiting`,
  );
  expect(
    load.allocated === state.taken && load.backordered === state.queued,
    `clients saw ${load.allocated} allocated / ${load.backordered} backordered, the database has ` +
      `${state.taken} / ${state.queued}`,
  );
  const sorted = [...load.positions].sort((a, b) => a - b);
  const wrong = sorted.findIndex((p, i) => p !== i + 1);
  expect(
    wrong === -1,
    `queue positions told to clients are not exactly 1..${sorted.length} (rank ${wrong + 1} was told ${sorted[wrong]})`,
  );
  return problems;
}

// ---------------------------------------------------------------------------------------------------------

interface Setup {
  database: BenchDatabase;
  service: ServiceProcess;
  client: GraphQLClient;
  clientThread: ClientThread;
  staff: string;
  tokens: string[];
  run: string;
}

async function phase(
  setup: Setup,
  mode: Mode,
  round: number,
  units: number,
  seconds: number,
): Promise<Phase> {
  const { database, service, client, clientThread, staff, tokens, run } = setup;
  const label =
    round === 0 ? `warm-up ${mode}` : `${mode === 'none' ? 'no subscribers' : 'subscribers'} #${round}`;
  const product = await createProductVia(client, staff, `BENCH-WO-${run}-${mode}-${round}`, units);
  const problems: string[] = [];
  const watchers = mode === 'with' ? await connectWatchers(service.url, product, label) : [];
  for (const [i, w] of watchers.entries()) {
    if (w.errors.length) problems.push(`subscriber ${i + 1}: ${w.errors[0]}`);
  }
  const marks = watchers.map((w) => w.messages.length);

  progress(
    `${label}: ${CLIENTS} clients for ${fmt(seconds, 0)} s on ${product.sku} (${int(units)} units)` +
      (mode === 'with' ? `, ${int(WATCHERS)} subscribers watching it` : ', nobody watching'),
  );
  const s0 = await service.stats();
  const started = performance.now();
  const load = await clientThread.run({ url: service.url, tokens, productId: product.id, seconds, label });
  const ended = performance.now();
  const s1 = await service.stats();
  for (const e of load.errors.slice(0, 5)) problems.push(`order failed: ${e}`);
  if (load.errors.length > 5) problems.push(`... and ${load.errors.length - 5} more failed orders`);

  const result: Phase = {
    mode,
    round,
    label,
    units,
    load,
    loopBusy: loopBusy(s0, s1),
    statementsPerOrder: (s1.queries - s0.queries) / Math.max(1, orders(load)),
    snapshots: s1.snapshots - s0.snapshots,
    problems,
  };

  if (mode === 'with') {
    const final = await client.data<{ product: ProductView }>(PRODUCT_AVAILABILITY, { sku: product.sku });
    const settled = await settle(watchers, JSON.stringify(final.product), ended);
    if (settled === null) {
      const behind = watchers.filter(
        (w) =>
          JSON.stringify(w.messages.at(-1)?.data?.productAvailabilityChanged) !==
          JSON.stringify(final.product),
      );
      problems.push(
        `${behind.length} subscribers do not hold the final availability ${SETTLE_MS} ms after the last order; ` +
          `one holds ${JSON.stringify(behind[0]?.messages.at(-1)?.data)}, the product is ${JSON.stringify(final.product)}`,
      );
    }
    result.settleMs = settled ?? Number.NaN;
    result.messages = [];
    result.lateMessages = 0;
    let shortest = Number.POSITIVE_INFINITY;
    for (const [i, w] of watchers.entries()) {
      const during = w.messages.slice(marks[i]).filter((m) => m.at >= started && m.at <= ended);
      result.messages.push(during.length);
      result.lateMessages += w.messages.slice(marks[i]).filter((m) => m.at > ended).length;
      for (let k = 1; k < during.length; k++)
        shortest = Math.min(shortest, during[k]!.at - during[k - 1]!.at);
      for (const e of w.errors) problems.push(`subscriber ${i + 1}: ${e}`);
    }
    result.shortestGapMs = shortest;
    await Promise.all(watchers.map((w) => w.close()));
  }
  problems.push(...(await checkProduct(database, product, units, load)));
  for (const p of problems.slice(0, 10)) progress(`${label}: CHECK FAILED: ${p}`);
  describe(result);
  return result;
}

const p50 = (r: LoadResult) => percentile(allMs(r), 50);
const p99 = (r: LoadResult) => percentile(allMs(r), 99);
const perWatcherRate = (ph: Phase) => mean(ph.messages ?? []) / ph.load.seconds;
const maxWatcherRate = (ph: Phase) => Math.max(...(ph.messages ?? [])) / ph.load.seconds;
/** At most one message per merge window: a watcher may get one more than the phase's windows. */
const withinWindowLimit = (ph: Phase) =>
  Math.max(...(ph.messages ?? [0])) <= Math.floor((ph.load.seconds * 1000) / MERGE_WINDOW_MS) + 1;

function describe(ph: Phase): void {
  const r = ph.load;
  progress(
    `${ph.label}: ${int(orders(r))} orders in ${fmt(r.seconds, 2)} s = ${fmt(rate(r))} orders/s, ` +
      `p50 ${fmt(p50(r))} ms, p99 ${fmt(p99(r))} ms; ${int(r.allocated)} allocated, ${int(r.backordered)} ` +
      `backordered; service loop busy ${fmt(ph.loopBusy * 100, 0)}%, ${fmt(ph.statementsPerOrder, 1)} ` +
      `statements per order, ${int(ph.snapshots)} snapshots` +
      (ph.messages
        ? `; ${int(ph.messages.reduce((a, b) => a + b, 0))} messages to subscribers (${fmt(perWatcherRate(ph), 2)}/s ` +
          `each, at most ${fmt(maxWatcherRate(ph), 2)}/s; ${int(ph.lateMessages ?? 0)} more after the load), all ` +
          `at the final state ${fmt(ph.settleMs ?? Number.NaN, 0)} ms after the last order`
        : ''),
  );
}

async function main(): Promise<boolean> {
  const database = await startDatabase();
  const service = await startServiceProcess(database.databaseUrl, { poolMax: CLIENTS + 8 });
  const load0 = os.loadavg()[0]!;
  progress(`machine: ${machineLine(database.machine)}; load average ${fmt(load0, 2)}`);
  const setup: Setup = {
    database,
    service,
    client: graphqlClient(service.url),
    clientThread: new ClientThread(),
    staff: await database.token('staff', 'bench-staff'),
    tokens: await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) => database.token('customer', `bench-customer-${c}`)),
    ),
    run: randomBytes(3).toString('hex'),
  };

  // Warm-up (not reported): JIT and connections on both sides, both paths, and the rate to size the stock.
  const warmNone = await phase(setup, 'none', 0, 50, WARMUP_SECONDS / 2);
  const warmWith = await phase(setup, 'with', 0, 50, WARMUP_SECONDS / 2);
  if (warmNone.problems.length || warmWith.problems.length) {
    throw new Error(`warm-up failed: ${[...warmNone.problems, ...warmWith.problems][0]}`);
  }
  const units = FIXED_UNITS ?? Math.max(100, Math.round((rate(warmNone.load) * SECONDS) / 3));
  progress(
    `warm-up: ${fmt(rate(warmNone.load))} orders/s; each product starts with ${int(units)} units` +
      (FIXED_UNITS === undefined ? ' (a third of the estimate; BENCH_UNITS overrides)' : ''),
  );

  const phases: Phase[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['none', 'with'] as const)
      phases.push(await phase(setup, mode, round, units, SECONDS));
  }

  const none = phases.filter((p) => p.mode === 'none');
  const withWatchers = phases.filter((p) => p.mode === 'with');
  const meanRate = (ps: Phase[]) => mean(ps.map((p) => rate(p.load)));
  const ratio = meanRate(withWatchers) / meanRate(none);
  const problems = phases.flatMap((p) => p.problems.map((x) => `${p.label}: ${x}`));
  const allMessages = withWatchers.flatMap((p) => p.messages ?? []);
  const windowsOk = withWatchers.every(withinWindowLimit);
  const shortestGap = Math.min(...withWatchers.map((p) => p.shortestGapMs ?? Number.POSITIVE_INFINITY));

  console.log('');
  for (const p of phases) {
    console.log(
      `${p.label}: ${fmt(rate(p.load))} orders/s, p50 ${fmt(p50(p.load))} ms, p99 ${fmt(p99(p.load))} ms` +
        (p.messages
          ? `; ${int(p.messages.reduce((a, b) => a + b, 0))} messages to ${int(WATCHERS)} subscribers ` +
            `(${fmt(perWatcherRate(p), 2)}/s each, at most ${fmt(maxWatcherRate(p), 2)}/s)`
          : ''),
    );
  }
  console.log(
    `mean: ${fmt(meanRate(none))} orders/s without subscribers, ${fmt(meanRate(withWatchers))} with; ` +
      `with / without: ${fmt(ratio, 2)} (target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
  );
  console.log(
    `subscribers: ${int(allMessages.reduce((a, b) => a + b, 0))} messages during the load, ` +
      `${fmt(mean(withWatchers.map(perWatcherRate)), 2)}/s per ` +
      `subscriber (at most one per ${MERGE_WINDOW_MS} ms: ${windowsOk ? 'yes' : 'NO'}; shortest gap between two ` +
      `messages to one subscriber ${fmt(shortestGap, 1)} ms, as received)`,
  );
  console.log(
    problems.length === 0
      ? 'checks: passed (no order failed; nothing oversold; counters = order lines = queue = ledger; queue ' +
          'positions told were 1..n; every subscriber ended at the product availability)'
      : `checks: FAILED\n${problems
          .slice(0, 20)
          .map((p) => `  - ${p}`)
          .join('\n')}`,
  );

  const row = (p: Phase) => [
    p.label,
    fmt(rate(p.load), 0),
    fmt(p50(p.load), 1),
    fmt(p99(p.load), 1),
    `${fmt(p.loopBusy * 100, 0)}%`,
    fmt(p.statementsPerOrder, 1),
    p.messages ? `${int(p.messages.reduce((a, b) => a + b, 0))} (${fmt(perWatcherRate(p), 2)}/s each)` : '-',
  ];
  const meanRow = (label: string, ps: Phase[]) => [
    label,
    fmt(meanRate(ps), 0),
    fmt(mean(ps.map((p) => p50(p.load))), 1),
    fmt(mean(ps.map((p) => p99(p.load))), 1),
    `${fmt(mean(ps.map((p) => p.loopBusy)) * 100, 0)}%`,
    fmt(mean(ps.map((p) => p.statementsPerOrder)), 1),
    ps[0]?.messages ? `${fmt(mean(ps.map(perWatcherRate)), 2)}/s each` : '-',
  ];
  console.log('');
  console.log(
    `#### placeOrder on one hot product with ${int(WATCHERS)} availability subscribers, against none: ` +
      `${CLIENTS} clients, ${fmt(SECONDS, 0)} s per phase`,
  );
  console.log('');
  console.log(`Machine: ${machineLine(database.machine)}; load average at start ${fmt(load0, 2)}.`);
  console.log('');
  console.log(
    markdownTable(
      [
        'phase',
        'orders/s',
        'p50 ms',
        'p99 ms',
        'service loop busy',
        'statements/order',
        'subscriber messages',
      ],
      [...phases.map(row), meanRow('mean, no subscribers', none), meanRow('mean, subscribers', withWatchers)],
    ),
  );
  console.log('');
  console.log(
    `Each product started with ${int(units)} units. Orders/s with / without subscribers: **${fmt(ratio, 2)}** ` +
      `(target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}). At most one message per ` +
      `${MERGE_WINDOW_MS} ms per subscriber: **${windowsOk ? 'yes' : 'NO'}**. Checks passed: ` +
      `**${problems.length === 0 ? 'yes' : 'NO'}**.`,
  );
  return problems.length === 0;
}

await runBench(main);
