/**
 * bench:outbox: what telling the shop's other systems costs checkouts, and how fast events go out.
 *
 * One service (in this process, its clients in a worker thread), one database. Runs alternate, BENCH_RUNS
 * (3) times each: placeOrder load on a fresh product (BENCH_CLIENTS customers for BENCH_SECONDS, stock
 * running out mid-run as in bench:orders, so most orders backorder) with no webhook endpoint, then with two endpoints subscribed to
 * every event type, each a local HTTP receiver answering 204. After each run with endpoints, it waits until
 * every delivery of the run has reached a receiver and reports events delivered per second, from the start
 * of the load to the last delivery, and the delay from an event's commit to its delivery.
 *
 * Prints orders/s and p50 with and without endpoints (median and range) and their ratio (target: under
 * 10% loss). Exit 1 if a delivery is missing or duplicated. Env: BENCH_RUNS, BENCH_SECONDS, BENCH_CLIENTS,
 * BENCH_UNITS, DATABASE_URL. The restock comparison the issue asks for is bench:restock run against the
 * parent commit (see the README).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { enumOfPublicType, PUBLIC_EVENT_TYPES } from '../../src/domain/rules/public-events.ts';
import { WEBHOOK_DEFAULTS } from '../../src/outbox/webhook-settings.ts';
import {
  allMs,
  CheckFailed,
  ClientThread,
  createProduct,
  fmt,
  int,
  intEnv,
  type LoadResult,
  machineLine,
  markdownTable,
  numberEnv,
  onCleanup,
  percentile,
  progress,
  rate,
  runBench,
  startBench,
  watchLoop,
} from './common.ts';

const RUNS = intEnv('BENCH_RUNS', 3);
const CLIENTS = intEnv('BENCH_CLIENTS', 32);
const SECONDS = numberEnv('BENCH_SECONDS', 10);
const FIXED_UNITS = process.env.BENCH_UNITS ? intEnv('BENCH_UNITS', 300, 0) : undefined;

/** A receiver that answers 204 and counts what it was sent, by webhook-id. */
async function receiver(): Promise<{
  url: string;
  ids: Map<string, number>;
  lastAt: () => number;
  server: Server;
}> {
  const ids = new Map<string, number>();
  let last = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      ids.set(id, (ids.get(id) ?? 0) + 1);
      last = performance.now();
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup('stop a receiver', () => new Promise((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    ids,
    lastAt: () => last,
    server,
  };
}

const median = (xs: number[]) => percentile(xs, 50);
const range = (xs: number[]) => `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;

async function main(): Promise<boolean> {
  const webhooks = { ...WEBHOOK_DEFAULTS, allowLoopback: true, pollMs: 200 };
  const bench = await startBench({ poolMax: 20, app: { webhooks } });
  progress(
    `settings: webhooks concurrency ${webhooks.concurrency}, per endpoint ${webhooks.endpointConcurrency}, ` +
      `timeout ${webhooks.timeoutMs} ms; loopback receivers allowed for this run; limits at their defaults`,
  );
  const staff = await bench.token('staff', 'bench-staff');
  const tokens = await Promise.all(
    Array.from({ length: CLIENTS }, (_, i) => bench.token('customer', `bench-c${i}`)),
  );
  const clients = new ClientThread();
  const receivers = [await receiver(), await receiver()];
  const runs: { label: 'none' | 'two'; result: LoadResult; delivered?: number; eventsPerSecond?: number }[] =
    [];

  // A short warm-up, not counted.
  const warm = await createProduct(bench, staff, `OUTBOX-WARM-${Date.now()}`, 0);
  const warmed = await watchLoop(() =>
    clients.run({ url: bench.url, tokens, productId: warm.id, seconds: 2, label: 'warm-up' }),
  );
  // As in bench:orders: stock for about a third of what a run will order, so most orders backorder and
  // both paths are timed; every backorder is an event to deliver.
  const UNITS = FIXED_UNITS ?? Math.round((rate(warmed) * SECONDS) / 3);
  progress(`each run's product starts with ${UNITS} units`);

  let endpointIds: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    for (const label of ['none', 'two'] as const) {
      if (label === 'two' && endpointIds.length === 0) {
        for (const r of receivers) {
          const reply = await bench.client.request<{ createWebhookEndpoint: { endpoint?: { id: string } } }>(
            `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
               ... on CreateWebhookEndpointSuccess { endpoint { id } } ... on Error { message } } }`,
            { input: { url: r.url, eventTypes: ALL_TYPES } },
            staff,
          );
          const id = reply.body.data?.createWebhookEndpoint.endpoint?.id;
          if (!id) throw new Error(`could not create an endpoint: ${JSON.stringify(reply.body)}`);
          endpointIds.push(id);
        }
      }
      if (label === 'none' && endpointIds.length > 0) {
        for (const id of endpointIds) {
          await bench.client.request(
            `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { __typename } }`,
            { id },
            staff,
          );
        }
        endpointIds = [];
      }
      const product = await createProduct(bench, staff, `OUTBOX-${label}-${run}-${Date.now()}`, UNITS);
      const before = await sql<{
        n: number;
      }>`SELECT coalesce(max(position), 0)::int AS n FROM outbox_event`.execute(bench.db);
      progress(`run ${run}, ${label === 'none' ? 'no endpoint' : 'two endpoints'}: ${SECONDS} s of orders`);
      const t0 = performance.now();
      const result = await watchLoop(() =>
        clients.run({ url: bench.url, tokens, productId: product.id, seconds: SECONDS, label }),
      );
      const entry: (typeof runs)[number] = { label, result };
      if (label === 'two') {
        // The relay has turned every event of the run into public events...
        const { rows: last } = await sql<{
          seq: number;
        }>`SELECT coalesce(max(seq), 0)::int AS seq FROM domain_event`.execute(bench.db);
        for (let waited = 0; ; waited += 100) {
          const { rows } = await sql<{ seq: number }>`SELECT seq::int FROM outbox_cursor`.execute(bench.db);
          if (rows[0]!.seq >= last[0]!.seq) break;
          if (waited > 120_000) throw new CheckFailed('the relay did not catch up within 120 s');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        // ...and every delivery of them has reached its receiver.
        const from = before.rows[0]!.n;
        for (let waited = 0; ; waited += 200) {
          const { rows } = await sql<{ pending: number; total: number }>`
            SELECT count(*) FILTER (WHERE d.status <> 'DELIVERED')::int AS pending, count(*)::int AS total
            FROM webhook_delivery d WHERE d.event_position > ${from}`.execute(bench.db);
          if (rows[0]!.pending === 0 && rows[0]!.total > 0) {
            entry.delivered = rows[0]!.total;
            break;
          }
          if (waited > 120_000)
            throw new CheckFailed(`deliveries still pending after 120 s: ${JSON.stringify(rows[0])}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const seconds = (Math.max(...receivers.map((r) => r.lastAt())) - t0) / 1000;
        entry.eventsPerSecond = entry.delivered! / seconds;
        progress(
          `  ${int(entry.delivered!)} deliveries in ${fmt(seconds)} s: ${fmt(entry.eventsPerSecond)}/s`,
        );
      }
      progress(`  ${fmt(rate(result))} orders/s, p50 ${fmt(percentile(allMs(result), 50))} ms`);
      runs.push(entry);
    }
  }
  const duplicates = receivers.flatMap((r) => [...r.ids.values()].filter((n) => n > 1));
  const perSide = (label: 'none' | 'two') => runs.filter((r) => r.label === label);
  const ordersPerSecond = (label: 'none' | 'two') => perSide(label).map((r) => rate(r.result));
  const p50 = (label: 'none' | 'two') => perSide(label).map((r) => percentile(allMs(r.result), 50));
  const eps = perSide('two').map((r) => r.eventsPerSecond!);
  const loss = 1 - median(ordersPerSecond('two')) / median(ordersPerSecond('none'));
  const slower = median(p50('two')) / median(p50('none')) - 1;
  console.log(
    `\n#### placeOrder with webhooks: ${CLIENTS} clients, ${SECONDS} s, ${RUNS} alternating runs each\n`,
  );
  console.log(machineLine(bench.machine));
  console.log(
    markdownTable(
      ['endpoints', 'orders/s median (range)', 'p50 ms median (range)', 'events delivered/s median (range)'],
      [
        [
          'none',
          `${fmt(median(ordersPerSecond('none')))} (${range(ordersPerSecond('none'))})`,
          `${fmt(median(p50('none')))} (${range(p50('none'))})`,
          '-',
        ],
        [
          'two, every event type',
          `${fmt(median(ordersPerSecond('two')))} (${range(ordersPerSecond('two'))})`,
          `${fmt(median(p50('two')))} (${range(p50('two'))})`,
          `${fmt(median(eps))} (${range(eps)})`,
        ],
      ],
    ),
  );
  console.log(
    `\nLoss in orders/s: ${fmt(loss * 100)}% (target < 10%); p50 ${fmt(slower * 100)}% slower (target < 10%); ` +
      `duplicate deliveries: ${duplicates.length}.`,
  );
  if (duplicates.length > 0)
    throw new CheckFailed(`${duplicates.length} events were delivered more than once`);
  return true;
}

/** Every public event type, as the API's enum names it. */
const ALL_TYPES = PUBLIC_EVENT_TYPES.map(enumOfPublicType);

void runBench(main);
