/**
 * bench:restock: one receiveStock that serves a whole queue.
 *
 * For each N in BENCH_SIZES (1000, 10000, 100000): a fresh product gets N one-unit backorders in its queue by
 * direct bulk insert (orders, lines, backorders and the stock's queue counters, as placeOrder would have
 * left them), then VACUUM ANALYZE, then ONE receiveStock of N units over HTTP (staff token) is timed. It
 * runs twice per N: selecting `allocations { quantity }` (one entry per backorder served) and without it.
 * After each run: all N backorders ALLOCATED, their lines and orders updated, counters equal to the ledger.
 *
 * Exit 0 when every check passed, 1 when one failed. Usage: npm run bench:restock
 * Env: BENCH_SIZES (comma-separated), DATABASE_URL.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { ledgerTotals } from '../../src/db/repos/stock.ts';
import {
  type Bench,
  type BenchProduct,
  createProduct,
  fmt,
  int,
  intListEnv,
  machineLine,
  markdownTable,
  progress,
  queueOneUnitBackorders,
  runBench,
  startBench,
} from './common.ts';

const SIZES = intListEnv('BENCH_SIZES', [1000, 10_000, 100_000]).sort((a, b) => a - b);
const WARMUP_SIZE = 1000;
const TARGET_RATIO = 1.5;
const TARGET_100K_MS = 3000;

const RECEIVE_WITH_ALLOCATIONS = /* GraphQL */ `
  mutation BenchReceiveStock($input: ReceiveStockInput!) {
    receiveStock(input: $input) {
      __typename
      ... on ReceiveStockSuccess {
        product { stock { onHand allocated available } }
        allocations { quantity }
      }
      ... on Error { message }
    }
  }
`;

const RECEIVE_WITHOUT_ALLOCATIONS = /* GraphQL */ `
  mutation BenchReceiveStockCounters($input: ReceiveStockInput!) {
    receiveStock(input: $input) {
      __typename
      ... on ReceiveStockSuccess {
        product { stock { onHand allocated available } }
      }
      ... on Error { message }
    }
  }
`;

interface ReceiveData {
  receiveStock: {
    __typename: string;
    message?: string;
    product?: { stock: { onHand: number; allocated: number; available: number } };
    allocations?: { quantity: number }[];
  };
}

type Variant = 'with allocations' | 'without allocations';
const VARIANTS: Variant[] = ['with allocations', 'without allocations'];

interface Timing {
  size: number;
  variant: Variant;
  ms: number;
  bytes: number;
  statements: number;
  problems: string[];
}

async function vacuum(bench: Bench): Promise<void> {
  await bench.pool.query('VACUUM ANALYZE customer_order, order_line, backorder, stock, stock_movement');
}

/** Everything that must hold once the queue of `size` one-unit backorders has been served. */
async function verify(bench: Bench, product: BenchProduct, size: number): Promise<string[]> {
  const { rows } = await bench.pool.query<{
    onHand: number;
    allocated: number;
    queueLength: number;
    unitsOnBackorder: number;
    backorders: number;
    allocatedBackorders: number;
    lineUnits: number;
    readyOrders: number;
    movements: number;
  }>(
    `SELECT s.on_hand AS "onHand", s.allocated, s.queue_length AS "queueLength",
       s.units_on_backorder AS "unitsOnBackorder",
       (SELECT count(*) FROM backorder b WHERE b.product_id = s.product_id)::int AS backorders,
       (SELECT count(*) FROM backorder b WHERE b.product_id = s.product_id
         AND b.status = 'ALLOCATED' AND b.quantity_allocated = b.quantity)::int AS "allocatedBackorders",
       (SELECT coalesce(sum(l.quantity_taken + b.quantity_allocated), 0) FROM order_line l
         JOIN backorder b ON b.order_line_id = l.id WHERE l.product_id = s.product_id)::int AS "lineUnits",
       (SELECT count(*) FROM order_line l JOIN customer_order o ON o.id = l.order_id
         WHERE l.product_id = s.product_id AND o.open AND NOT EXISTS (
           SELECT 1 FROM backorder q WHERE q.order_id = o.id AND q.status IN ('WAITING', 'PARTIALLY_ALLOCATED'))
       )::int AS "readyOrders",
       (SELECT count(*) FROM stock_movement m
         WHERE m.product_id = s.product_id AND m.kind = 'ALLOCATION')::int AS movements
     FROM stock s WHERE s.product_id = $1`,
    [product.dbId],
  );
  const state = rows[0];
  if (!state) return [`product ${product.sku} has no stock row`];
  const ledger = await ledgerTotals(bench.db, product.dbId);
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  expect(state.backorders === size, `${state.backorders} backorders, expected ${size}`);
  expect(state.allocatedBackorders === size, `${state.allocatedBackorders} of ${size} backorders ALLOCATED`);
  expect(
    state.onHand === size && state.allocated === size,
    `stock onHand ${state.onHand}, allocated ${state.allocated}; expected ${size} and ${size}`,
  );
  expect(
    state.queueLength === 0 && state.unitsOnBackorder === 0,
    `queue counters ${state.queueLength} / ${state.unitsOnBackorder} after the queue was served`,
  );
  expect(state.lineUnits === size, `order lines hold ${state.lineUnits} units, expected ${size}`);
  expect(state.readyOrders === size, `${state.readyOrders} of ${size} orders READY with their unit to ship`);
  expect(state.movements === 1, `${state.movements} ALLOCATION movements, expected one for the whole fill`);
  expect(
    ledger.onHand === state.onHand && ledger.allocated === state.allocated,
    `counters (onHand ${state.onHand}, allocated ${state.allocated}) differ from the ledger ` +
      `(onHand ${ledger.onHand}, allocated ${ledger.allocated})`,
  );
  return problems;
}

async function measure(
  bench: Bench,
  staffToken: string,
  sku: string,
  size: number,
  variant: Variant,
  label: string,
): Promise<Timing> {
  const product = await createProduct(bench, staffToken, sku);
  let t = performance.now();
  await queueOneUnitBackorders(bench.pool, product.dbId, size, `bench-restock-${product.sku}-`);
  progress(`${label}: ${int(size)} backorders queued on ${sku} in ${fmt(performance.now() - t, 0)} ms`);
  t = performance.now();
  await vacuum(bench);
  progress(`${label}: VACUUM ANALYZE in ${fmt(performance.now() - t, 0)} ms`);

  const query = variant === 'with allocations' ? RECEIVE_WITH_ALLOCATIONS : RECEIVE_WITHOUT_ALLOCATIONS;
  const statements0 = bench.app.queries.count;
  t = performance.now();
  const reply = await bench.client.request<ReceiveData>(
    query,
    { input: { productId: product.id, quantity: size } },
    staffToken,
  );
  const ms = performance.now() - t;
  const statements = bench.app.queries.count - statements0;
  progress(
    `${label}: receiveStock(${int(size)}) ${variant} in ${fmt(ms, 1)} ms ` +
      `(${fmt((ms * 1000) / size, 1)} µs per backorder, response ${int(reply.bytes)} bytes, ` +
      `${statements} statements from the service meanwhile, background polls included)`,
  );

  const problems: string[] = [];
  const payload = reply.body.data?.receiveStock;
  if (reply.status !== 200 || reply.body.errors?.length || !payload) {
    problems.push(`receiveStock failed (HTTP ${reply.status}): ${JSON.stringify(reply.body.errors)}`);
  } else if (payload.__typename !== 'ReceiveStockSuccess' || !payload.product) {
    problems.push(`receiveStock answered ${payload.__typename}: ${payload.message}`);
  } else {
    const stock = payload.product.stock;
    if (stock.onHand !== size || stock.allocated !== size || stock.available !== 0) {
      problems.push(`receiveStock answered stock ${JSON.stringify(stock)}`);
    }
    if (variant === 'with allocations') {
      const allocations = payload.allocations ?? [];
      const units = allocations.reduce((sum, a) => sum + a.quantity, 0);
      if (allocations.length !== size || units !== size) {
        problems.push(`allocations: ${allocations.length} entries with ${units} units, expected ${size}`);
      }
    }
  }
  problems.push(...(await verify(bench, product, size)));
  for (const p of problems) progress(`${label}: CHECK FAILED: ${p}`);
  return { size, variant, ms, bytes: reply.bytes, statements, problems };
}

const perBackorderUs = (t: Timing) => (t.ms * 1000) / t.size;

async function main(): Promise<boolean> {
  const bench = await startBench({ poolMax: 10 });
  const load0 = os.loadavg()[0]!;
  progress(`machine: ${machineLine(bench.machine)}; load average ${fmt(load0, 2)}`);
  const staff = await bench.token('staff', 'bench-staff');
  const run = randomBytes(3).toString('hex');

  // Warm-up (not reported): JIT and connections, both selections.
  for (const variant of VARIANTS) {
    const sku = `BENCH-RW-${run}-${variant === 'with allocations' ? 'A' : 'C'}`;
    const warm = await measure(bench, staff, sku, WARMUP_SIZE, variant, 'warm-up');
    if (warm.problems.length) throw new Error(`warm-up failed: ${warm.problems[0]}`);
  }

  const timings: Timing[] = [];
  for (const size of SIZES) {
    for (const variant of VARIANTS) {
      const sku = `BENCH-R-${run}-${size}-${variant === 'with allocations' ? 'A' : 'C'}`;
      timings.push(await measure(bench, staff, sku, size, variant, `N=${int(size)}`));
    }
  }

  const problems = timings.flatMap((t) => t.problems.map((p) => `N=${t.size} ${t.variant}: ${p}`));
  const pick = (size: number, variant: Variant) =>
    timings.find((t) => t.size === size && t.variant === variant)!;
  const smallest = SIZES[0]!;
  const largest = SIZES[SIZES.length - 1]!;
  const ratio = (variant: Variant) =>
    perBackorderUs(pick(largest, variant)) / perBackorderUs(pick(smallest, variant));
  const hundredK = (variant: Variant) => timings.find((t) => t.size === 100_000 && t.variant === variant);
  const under3s = (variant: Variant) => {
    const t = hundredK(variant);
    if (!t) return 'not run (100000 not in BENCH_SIZES)';
    return `${t.ms < TARGET_100K_MS ? 'yes' : 'NO'} (${fmt(t.ms, 0)} ms)`;
  };

  console.log('');
  for (const t of timings) {
    console.log(
      `N=${int(t.size)} ${t.variant}: ${fmt(t.ms, 1)} ms total, ${fmt(perBackorderUs(t), 2)} µs per backorder, ` +
        `response ${int(t.bytes)} bytes${t.problems.length ? ', CHECK FAILED' : ''}`,
    );
  }
  console.log('');
  for (const variant of VARIANTS) {
    const r = ratio(variant);
    console.log(
      `${variant}: per-backorder time at N=${int(largest)} / N=${int(smallest)}: ${fmt(r, 2)} ` +
        `(target <= ${TARGET_RATIO}: ${r <= TARGET_RATIO ? 'met' : 'missed'}); ` +
        `100,000 under 3 s: ${under3s(variant)}`,
    );
  }
  console.log(
    problems.length === 0
      ? 'checks: passed (every backorder ALLOCATED, lines and orders updated, one ALLOCATION movement, ' +
          'counters = ledger)'
      : `checks: FAILED\n${problems.map((p) => `  - ${p}`).join('\n')}`,
  );

  console.log('');
  console.log('#### One receiveStock serving a queue of N one-unit backorders');
  console.log('');
  console.log(`Machine: ${machineLine(bench.machine)}; load average at start ${fmt(load0, 2)}.`);
  console.log('');
  console.log(
    markdownTable(
      [
        'backorders',
        'ms (allocations selected)',
        'µs per backorder',
        'ms (counters only)',
        'µs per backorder',
      ],
      SIZES.map((size) => {
        const a = pick(size, 'with allocations');
        const c = pick(size, 'without allocations');
        return [int(size), fmt(a.ms, 0), fmt(perBackorderUs(a), 1), fmt(c.ms, 0), fmt(perBackorderUs(c), 1)];
      }),
    ),
  );
  console.log('');
  console.log(
    `Per-backorder time at ${int(largest)} / at ${int(smallest)}: **${fmt(ratio('with allocations'), 2)}** ` +
      `with allocations selected, ${fmt(ratio('without allocations'), 2)} without (target <= ${TARGET_RATIO}). ` +
      `100,000 under 3 s: ${under3s('with allocations')} with allocations, ` +
      `${under3s('without allocations')} without. All backorders ALLOCATED and counters equal the ledger: ` +
      `**${problems.length === 0 ? 'yes' : 'NO'}**.`,
  );
  return problems.length === 0;
}

await runBench(main);
