/**
 * bench:fanout: one change to a product whose queue is watched by many customers, each on a connection of
 * their own.
 *
 * 1. The service runs in a process of its own (fanout-server.ts), so that its memory is measured alone; the
 *    subscribers live in this process.
 * 2. Warm-up: the whole procedure below with BENCH_WARMUP_SUBSCRIBERS (10) on another product. It warms the
 *    service up, and its statement count is what the count for N subscribers is set against.
 * 3. N = BENCH_SUBSCRIBERS (10,000) one-unit backorders of N customers are queued on one product by bulk
 *    insert (as N placeOrder calls on an empty product leave them). Each customer subscribes to theirs with
 *    the contract's WatchBackorder (own JWT in connectionParams, own graphql-ws connection), BENCH_BATCH
 *    (200) at a time, and first gets its current state. Service RSS before and after, each after a full
 *    garbage collection: RSS per idle subscriber.
 * 4. ONE receiveStock of N/2 units (staff, over HTTP): the first N/2 backorders are ALLOCATED and every other
 *    one moves up N/2 places. For each subscriber: time from the mutation's response to its first message
 *    with the change; messages received; statements the service ran; snapshots built.
 * 5. Baseline: a bare `ws` server (ws-baseline.ts, a process of its own) with N plain WebSocket
 *    connections sends each one message of the size of the service's update, triggered over IPC: time from
 *    the trigger to each client's receipt.
 *
 * Checks (exit 1 on failure): every subscriber's first message is its backorder WAITING at its place in the
 * queue, and its last one is exactly the expected final state (first N/2 ALLOCATED with no queue position,
 * the rest WAITING at their old position - N/2). Targets (reported, never a failure): p99 under 1 s; at most
 * 30 KB (30,000 bytes) of service RSS per idle subscriber; the statements of the fan-out do not depend on N.
 *
 * Usage: npm run bench:fanout
 * Env: BENCH_SUBSCRIBERS, BENCH_BATCH, BENCH_WARMUP_SUBSCRIBERS, DATABASE_URL.
 */

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { print } from 'graphql';
import WebSocket from 'ws';
import { DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { toGlobalId } from '../../src/schema/ids.ts';
import { WatchBackorderDocument } from '../generated/graphql.ts';
import {
  type BenchDatabase,
  type BenchProduct,
  ChildProcessRpc,
  createProductVia,
  fmt,
  type GraphQLClient,
  graphqlClient,
  inBatches,
  int,
  intEnv,
  type LiveSubscriber,
  liveSubscribe,
  machineLine,
  markdownTable,
  percentile,
  progress,
  queueOneUnitBackorders,
  runBench,
  type ServiceProcess,
  type ServiceStats,
  startDatabase,
  startServiceProcess,
} from './common.ts';

const SUBSCRIBERS = intEnv('BENCH_SUBSCRIBERS', 10_000, 2);
const BATCH = intEnv('BENCH_BATCH', 200);
const WARMUP_SUBSCRIBERS = intEnv('BENCH_WARMUP_SUBSCRIBERS', 10, 2);
/** Longest wait for the initial messages of one batch, for every update, or for every baseline message. */
const DEADLINE_MS = 120_000;
const TARGET_P99_MS = 1000;
const TARGET_BYTES_PER_SUBSCRIBER = 30_000;
/** graphql-ws client ids are UUIDs: what the id of a `next` message weighs. */
const MESSAGE_ID = '00000000-0000-4000-8000-000000000000';

/** The contract's operation, as real clients send it. */
const WATCH_BACKORDER = print(WatchBackorderDocument);

interface BackorderView {
  id: string;
  status: string;
  quantity: number;
  quantityAllocated: number;
  queuePosition: number | null;
  unitsAhead: number | null;
  estimatedAvailableAt: string | null;
}

interface Watch {
  backorderUpdated: BackorderView;
}

const RECEIVE_STOCK = /* GraphQL */ `
  mutation BenchFanoutReceive($input: ReceiveStockInput!) {
    receiveStock(input: $input) {
      __typename
      ... on ReceiveStockSuccess { product { stock { onHand allocated available } } }
      ... on Error { message }
    }
  }
`;

interface ReceiveData {
  receiveStock: {
    __typename: string;
    message?: string;
    product?: { stock: { onHand: number; allocated: number; available: number } };
  };
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

/** The largest value; NaN when there is none. */
function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b));
}

/** The size of the graphql-ws `next` message that carried `data`. */
function messageBytes(data: unknown): number {
  return Buffer.byteLength(JSON.stringify({ id: MESSAGE_ID, type: 'next', payload: { data } }));
}

const kb = (bytes: number) => `${fmt(bytes / 1000, 1)} KB`;
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20, 1)} MiB`;
const ms = (value: number) => `${fmt(value, 1)} ms`;

// ---------------------------------------------------------------------------------------------------------
// The queue

/**
 * `size` one-unit orders of `size` customers (`prefix` + 1..size), each wholly on backorder, in one
 * transaction: what `size` placeOrder calls on an empty product leave behind. Returns the backorder ids in
 * queue order; the i-th (from 0) belongs to customer `prefix` + (i + 1).
 */
async function seedQueue(
  database: BenchDatabase,
  product: BenchProduct,
  size: number,
  prefix: string,
): Promise<number[]> {
  await queueOneUnitBackorders(database.pool, product.dbId, size, prefix);
  await database.pool.query('VACUUM ANALYZE customer_order, order_line, backorder, stock');
  const { rows } = await database.pool.query<{ id: number; customerId: string }>(
    'SELECT id::int AS id, customer_id AS "customerId" FROM backorder WHERE product_id = $1 ORDER BY id',
    [product.dbId],
  );
  rows.forEach((row, i) => {
    if (row.customerId !== `${prefix}${i + 1}`) {
      throw new Error(`queue place ${i + 1} belongs to ${row.customerId}, expected ${prefix}${i + 1}`);
    }
  });
  if (rows.length !== size) throw new Error(`${rows.length} backorders queued, expected ${size}`);
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------------------------------------------------
// The service's fan-out

interface Subscriber {
  index: number;
  backorderId: string;
  live: LiveSubscriber<Watch>;
  /** Messages that arrived before the mutation was sent. */
  before: number;
  /** Arrival of the first message with the change. */
  changedAt?: number;
}

interface FanOut {
  size: number;
  half: number;
  connectSeconds: number;
  /** Service memory before the subscribers connected and with all of them idle (after a full GC). */
  before?: ServiceStats;
  idle?: ServiceStats;
  /** After every subscriber disconnected (after a full GC). */
  after?: ServiceStats;
  mutationMs: number;
  /** Per subscriber that got the change: ms from the mutation's response to the message. */
  latencies: number[];
  /** Changes that arrived before the mutation's response (counted as 0 ms). */
  early: number;
  /** From the mutation's response to the last subscriber's change. */
  lastMs: number;
  updateMessages: number;
  /** Subscribers that got more than one message after the mutation. */
  repeated: number;
  /** Mean size of an update message (the graphql-ws `next` message). */
  messageBytes: number;
  /** Statements the service sent: from just before the request to the last update; after the response. */
  statements: number;
  changeLogReads: number;
  statementsAfterResponse: number;
  changeLogReadsAfterResponse: number;
  snapshots: number;
  problems: string[];
}

function expectedFinal(
  backorderId: string,
  index: number,
  half: number,
): Omit<BackorderView, 'estimatedAvailableAt'> {
  return index < half
    ? {
        id: backorderId,
        status: 'ALLOCATED',
        quantity: 1,
        quantityAllocated: 1,
        queuePosition: null,
        unitsAhead: null,
      }
    : {
        id: backorderId,
        status: 'WAITING',
        quantity: 1,
        quantityAllocated: 0,
        queuePosition: index + 1 - half,
        unitsAhead: index - half,
      };
}

/** The differences between what a subscriber holds and what it should, as "field: got x, expected y". */
function differences(got: BackorderView | undefined, expected: Record<string, unknown>): string[] {
  if (!got) return ['no data'];
  return Object.entries(expected).flatMap(([key, value]) => {
    const actual = (got as unknown as Record<string, unknown>)[key];
    return actual === value
      ? []
      : [`${key}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`];
  });
}

async function fanOut(
  database: BenchDatabase,
  service: ServiceProcess,
  client: GraphQLClient,
  staff: string,
  size: number,
  label: string,
  measureMemory: boolean,
): Promise<FanOut> {
  const run = randomBytes(3).toString('hex');
  const half = Math.floor(size / 2);
  const problems: string[] = [];
  const problem = (what: string) => {
    problems.push(what);
    if (problems.length <= 10) progress(`${label}: CHECK FAILED: ${what}`);
  };

  const product = await createProductVia(client, staff, `BENCH-FAN-${run}-${size}`);
  let t = performance.now();
  const backorderIds = await seedQueue(database, product, size, `bench-fanout-${run}-`);
  progress(
    `${label}: ${int(size)} one-unit backorders queued on ${product.sku} in ${fmt(performance.now() - t, 0)} ms`,
  );
  t = performance.now();
  const tokens = await Promise.all(
    backorderIds.map((_, i) => database.token('customer', `bench-fanout-${run}-${i + 1}`)),
  );
  progress(`${label}: ${int(size)} customer tokens signed in ${fmt(performance.now() - t, 0)} ms`);

  const before = measureMemory ? await service.stats({ gc: true }) : undefined;
  if (before)
    progress(`${label}: service RSS before connecting ${mib(before.rss)}, heap ${mib(before.heapUsed)}`);

  // Changes count from the moment the mutation is sent; the waiters resolve once all have theirs.
  let armed = false;
  let changed = 0;
  let allChanged: () => void = () => {};
  const everyoneChanged = new Promise<void>((resolve) => {
    allChanged = resolve;
  });
  const connectStart = performance.now();
  let reportedAt = connectStart;
  let reportedDone = 0;
  const subscribers = await inBatches(
    size,
    BATCH,
    async (index): Promise<Subscriber> => {
      const backorderId = toGlobalId('Backorder', backorderIds[index]!);
      const subscriber: Subscriber = {
        index,
        backorderId,
        before: 0,
        live: liveSubscribe<Watch>(service.url, tokens[index], WATCH_BACKORDER, { id: backorderId }, (m) => {
          if (!armed || subscriber.changedAt !== undefined) return;
          const b = m.data?.backorderUpdated;
          if (b && (b.status === 'ALLOCATED' || b.queuePosition !== index + 1)) {
            subscriber.changedAt = m.at;
            if (++changed === size) allChanged();
          }
        }),
      };
      if (
        !(await within(
          subscriber.live.first.catch(() => {}),
          DEADLINE_MS,
        ))
      ) {
        subscriber.live.errors.push(`no initial message within ${DEADLINE_MS} ms`);
      }
      return subscriber;
    },
    (done) => {
      const now = performance.now();
      progress(
        `${label}: ${int(done)} of ${int(size)} subscribed and got their current state ` +
          `(${fmt((now - connectStart) / 1000, 1)} s; the last ${int(done - reportedDone)} in ${fmt(now - reportedAt, 0)} ms)`,
      );
      reportedAt = now;
      reportedDone = done;
    },
  );
  const connectSeconds = (performance.now() - connectStart) / 1000;

  // Each subscriber's current state first: its backorder WAITING at its place.
  for (const s of subscribers) {
    if (s.live.errors.length) {
      problem(`subscriber ${s.index + 1}: ${s.live.errors[0]}`);
      continue;
    }
    const diff = differences(s.live.messages[0]?.data?.backorderUpdated, {
      id: s.backorderId,
      status: 'WAITING',
      quantity: 1,
      quantityAllocated: 0,
      queuePosition: s.index + 1,
      unitsAhead: s.index,
    });
    if (diff.length) problem(`subscriber ${s.index + 1}, initial state: ${diff.join(', ')}`);
  }

  let idle: ServiceStats | undefined;
  if (measureMemory && before) {
    await sleep(1000);
    idle = await service.stats({ gc: true });
    progress(
      `${label}: service RSS with ${int(size)} idle subscribers ${mib(idle.rss)} ` +
        `(${kb((idle.rss - before.rss) / size)} each), heap ${mib(idle.heapUsed)} ` +
        `(${kb((idle.heapUsed - before.heapUsed) / size)} each)`,
    );
  }

  // ONE receiveStock of half the queue.
  for (const s of subscribers) s.before = s.live.messages.length;
  const s0 = await service.stats();
  armed = true;
  const sent = performance.now();
  const reply = await client.request<ReceiveData>(
    RECEIVE_STOCK,
    { input: { productId: product.id, quantity: half } },
    staff,
  );
  const responded = performance.now();
  const s1 = service.stats();
  const payload = reply.body.data?.receiveStock;
  const stock = payload?.product?.stock;
  if (reply.status !== 200 || reply.body.errors?.length || payload?.__typename !== 'ReceiveStockSuccess') {
    problem(`receiveStock failed (HTTP ${reply.status}): ${JSON.stringify(reply.body)}`);
  } else if (stock?.onHand !== half || stock.allocated !== half) {
    problem(`receiveStock answered stock ${JSON.stringify(stock)}, expected ${half} on hand and allocated`);
  }
  progress(
    `${label}: receiveStock(${int(half)}) answered in ${ms(responded - sent)}; waiting for the updates`,
  );

  const complete = await within(everyoneChanged, DEADLINE_MS);
  const s2 = await service.stats();
  const s1Stats = await s1;
  const changedAts = subscribers.flatMap((s) => (s.changedAt === undefined ? [] : [s.changedAt]));
  const last = max(changedAts);
  progress(
    `${label}: ${int(changedAts.length)} of ${int(size)} subscribers got the change, the last ` +
      `${ms(last - responded)} after the response${complete ? '' : ` (gave up after ${DEADLINE_MS} ms)`}`,
  );
  // Anything later than the change (there should be nothing) still counts, and is checked.
  await sleep(1000);

  let updateMessages = 0;
  let repeated = 0;
  let bytes = 0;
  for (const s of subscribers) {
    const updates = s.live.messages.slice(s.before);
    updateMessages += updates.length;
    if (updates.length > 1) repeated++;
    for (const m of updates) bytes += messageBytes(m.data);
    if (s.live.errors.length) {
      if (s.live.messages.length > 0) problem(`subscriber ${s.index + 1}: ${s.live.errors[0]}`);
      continue;
    }
    if (s.changedAt === undefined) {
      problem(`subscriber ${s.index + 1}: no message with the change`);
      continue;
    }
    const diff = differences(
      s.live.messages.at(-1)?.data?.backorderUpdated,
      expectedFinal(s.backorderId, s.index, half),
    );
    if (diff.length) problem(`subscriber ${s.index + 1}, final state: ${diff.join(', ')}`);
  }
  const latencies = changedAts.map((at) => Math.max(0, at - responded));
  const early = changedAts.filter((at) => at < responded).length;

  await Promise.all(subscribers.map((s) => s.live.close()));
  let after: ServiceStats | undefined;
  if (measureMemory) {
    await sleep(1000);
    after = await service.stats({ gc: true });
    progress(
      `${label}: every subscriber disconnected; service RSS ${mib(after.rss)}, heap ${mib(after.heapUsed)}`,
    );
  }
  if (problems.length > 10) progress(`${label}: ... and ${int(problems.length - 10)} more failed checks`);

  return {
    size,
    half,
    connectSeconds,
    before,
    idle,
    after,
    mutationMs: responded - sent,
    latencies,
    early,
    lastMs: last - responded,
    updateMessages,
    repeated,
    messageBytes: updateMessages ? bytes / updateMessages : Number.NaN,
    statements: s2.queries - s0.queries,
    changeLogReads: s2.changeLogReads - s0.changeLogReads,
    statementsAfterResponse: s2.queries - s1Stats.queries,
    changeLogReadsAfterResponse: s2.changeLogReads - s1Stats.changeLogReads,
    snapshots: s2.snapshots - s0.snapshots,
    problems,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The floor: a bare ws server

interface Baseline {
  latencies: number[];
  lastMs: number;
  received: number;
  bytes: number;
  /** RSS per idle connection of the bare server (after a full GC). */
  bytesPerConnection: number;
}

async function baseline(size: number, bytes: number): Promise<Baseline> {
  const server = await ChildProcessRpc.start('./ws-baseline.ts', 'ws baseline server', { exposeGc: true });
  const { url } = await server.request<{ url: string }>({ cmd: 'start' });
  progress(`baseline: bare ws server at ${url} in process ${server.pid}`);
  const before = await server.request<{ rss: number }>({ cmd: 'stats', gc: true });

  let trigger = 0;
  let received = 0;
  let latencies: number[] = [];
  let allReceived: () => void = () => {};
  const connectStart = performance.now();
  const sockets = await inBatches(
    size,
    BATCH,
    (index) =>
      new Promise<WebSocket>((resolve, reject) => {
        const socket = new WebSocket(url);
        socket.on('open', () => resolve(socket));
        socket.on('error', reject);
        socket.on('message', (data) => {
          JSON.parse(String(data));
          latencies[index] = performance.now() - trigger;
          if (++received === size) allReceived();
        });
      }),
    (done) =>
      progress(
        `baseline: ${int(done)} of ${int(size)} connections open (${fmt((performance.now() - connectStart) / 1000, 1)} s)`,
      ),
  );
  await sleep(1000);
  const idle = await server.request<{ rss: number; connections: number }>({ cmd: 'stats', gc: true });

  // One unmeasured round first, as the service had its warm-up.
  const send = async (): Promise<number> => {
    received = 0;
    latencies = new Array<number>(size);
    const done = new Promise<void>((resolve) => {
      allReceived = resolve;
    });
    trigger = performance.now();
    const reply = await server.request<{ sent: number; bytes: number }>({ cmd: 'send', bytes });
    if (!(await within(done, DEADLINE_MS)))
      throw new Error(`baseline: only ${received} of ${size} messages arrived`);
    return reply.bytes;
  };
  await send();
  const sentBytes = await send();
  const lastMs = max(latencies);
  progress(
    `baseline: ${int(received)} messages of ${int(sentBytes)} bytes, the last ${ms(lastMs)} after the trigger`,
  );
  for (const socket of sockets) socket.terminate();
  await server.stop();
  return {
    latencies,
    lastMs,
    received,
    bytes: sentBytes,
    bytesPerConnection: (idle.rss - before.rss) / size,
  };
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<boolean> {
  const database = await startDatabase();
  // Every subscriber holds a connection of its own, and the staff client's requests need one more: the
  // cap on open connections (10,000 by default) is raised to fit them, the other limits as they are.
  const abuse = {
    ...DEFAULT_ABUSE_LIMITS,
    connections: {
      ...DEFAULT_ABUSE_LIMITS.connections,
      openConnections: Math.max(
        DEFAULT_ABUSE_LIMITS.connections.openConnections,
        SUBSCRIBERS + WARMUP_SUBSCRIBERS + 100,
      ),
    },
  };
  const service = await startServiceProcess(database.databaseUrl, { poolMax: 20, abuse });
  const load0 = os.loadavg()[0]!;
  progress(`machine: ${machineLine(database.machine)}; load average ${fmt(load0, 2)}`);
  const client = graphqlClient(service.url);
  const staff = await database.token('staff', 'bench-staff');

  progress(`warm-up: fan-out to ${WARMUP_SUBSCRIBERS} subscribers`);
  const warm = await fanOut(database, service, client, staff, WARMUP_SUBSCRIBERS, 'warm-up', false);
  progress(`fan-out to ${int(SUBSCRIBERS)} subscribers, ${BATCH} connecting at a time`);
  const result = await fanOut(database, service, client, staff, SUBSCRIBERS, `N=${int(SUBSCRIBERS)}`, true);
  const floor = await baseline(SUBSCRIBERS, Math.round(result.messageBytes));

  const problems = [
    ...warm.problems.map((p) => `warm-up: ${p}`),
    ...result.problems.map((p) => `N=${SUBSCRIBERS}: ${p}`),
  ];
  const p = (values: number[], q: number) => percentile(values, q);
  const service50 = p(result.latencies, 50);
  const service99 = p(result.latencies, 99);
  const serviceMax = max(result.latencies);
  const floor50 = p(floor.latencies, 50);
  const floor99 = p(floor.latencies, 99);
  const floorMax = floor.lastMs;
  const perSubscriber =
    result.idle && result.before ? (result.idle.rss - result.before.rss) / SUBSCRIBERS : Number.NaN;
  const heapPerSubscriber =
    result.idle && result.before ? (result.idle.heapUsed - result.before.heapUsed) / SUBSCRIBERS : Number.NaN;
  const ownStatements = (f: FanOut) => f.statements - f.changeLogReads;
  const independent = ownStatements(result) === ownStatements(warm) && result.snapshots === warm.snapshots;
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

  console.log('');
  console.log(
    `service: update ${ms(service50)} p50, ${ms(service99)} p99, ${ms(serviceMax)} max after the mutation's ` +
      `response (receiveStock took ${ms(result.mutationMs)}; ${int(result.early)} updates came before the response)`,
  );
  console.log(
    `bare ws: message ${ms(floor50)} p50, ${ms(floor99)} p99, ${ms(floorMax)} max after the trigger ` +
      `(${int(floor.received)} messages of ${int(floor.bytes)} bytes)`,
  );
  console.log(
    `service / bare ws: p50 ${fmt(service50 / floor50, 1)}x, p99 ${fmt(service99 / floor99, 1)}x, ` +
      `max ${fmt(serviceMax / floorMax, 1)}x`,
  );
  console.log(
    `messages: ${int(result.updateMessages)} updates to ${int(SUBSCRIBERS)} subscribers ` +
      `(mean ${int(Math.round(result.messageBytes))} bytes; ${int(result.repeated)} subscribers got more than one)`,
  );
  console.log(
    `statements: ${result.statementsAfterResponse} after the response until the last update ` +
      `(${result.changeLogReadsAfterResponse} of them change-log reads); from the request to the last update ` +
      `${result.statements}, ${ownStatements(result)} without change-log reads ` +
      `(warm-up, ${WARMUP_SUBSCRIBERS} subscribers: ${ownStatements(warm)}); snapshots built: ${result.snapshots} ` +
      `(warm-up: ${warm.snapshots})`,
  );
  if (result.before && result.idle && result.after) {
    console.log(
      `service memory: RSS ${mib(result.before.rss)} before, ${mib(result.idle.rss)} with ${int(SUBSCRIBERS)} idle ` +
        `subscribers = ${kb(perSubscriber)} each (heap ${kb(heapPerSubscriber)} each); ${mib(result.after.rss)} ` +
        `RSS, ${mib(result.after.heapUsed)} heap after all disconnected; bare ws server: ` +
        `${kb(floor.bytesPerConnection)} RSS per idle connection`,
    );
  }
  console.log(`subscribing: ${int(SUBSCRIBERS)} in ${fmt(result.connectSeconds, 1)} s`);
  console.log(
    `targets: p99 under 1 s: ${met(service99 < TARGET_P99_MS)}; at most 30 KB RSS per idle subscriber: ` +
      `${met(perSubscriber <= TARGET_BYTES_PER_SUBSCRIBER)}; statements independent of the number of ` +
      `subscribers: ${met(independent)}`,
  );
  console.log(
    problems.length === 0
      ? `checks: passed (every subscriber got its state first, then exactly its final state: the first ` +
          `${int(result.half)} ALLOCATED with no position, the rest WAITING ${int(result.half)} places up)`
      : `checks: FAILED\n${problems
          .slice(0, 20)
          .map((x) => `  - ${x}`)
          .join('\n')}${problems.length > 20 ? `\n  - ... and ${int(problems.length - 20)} more` : ''}`,
  );

  console.log('');
  console.log(`#### Fan-out: one receiveStock to ${int(SUBSCRIBERS)} subscribers of one product's queue`);
  console.log('');
  console.log(`Machine: ${machineLine(database.machine)}; load average at start ${fmt(load0, 2)}.`);
  console.log('');
  console.log(
    markdownTable(
      ['delivery', 'p50 ms', 'p99 ms', 'max ms'],
      [
        [
          `service: \`receiveStock\` response -> each subscriber's update (${int(SUBSCRIBERS)} graphql-ws connections)`,
          fmt(service50, 1),
          fmt(service99, 1),
          fmt(serviceMax, 1),
        ],
        [
          `bare \`ws\` server: IPC trigger -> each client's message (${int(floor.bytes)} bytes)`,
          fmt(floor50, 1),
          fmt(floor99, 1),
          fmt(floorMax, 1),
        ],
        [
          'service / bare `ws`',
          fmt(service50 / floor50, 1),
          fmt(service99 / floor99, 1),
          fmt(serviceMax / floorMax, 1),
        ],
      ],
    ),
  );
  console.log('');
  console.log(
    markdownTable(
      ['figure', 'value'],
      [
        [
          'update messages received',
          `${int(result.updateMessages)} (one per subscriber: ${result.repeated === 0 && result.updateMessages === SUBSCRIBERS ? 'yes' : 'NO'})`,
        ],
        [
          'statements after the response until the last update',
          `${result.statementsAfterResponse} (${result.changeLogReadsAfterResponse} change-log reads)`,
        ],
        [
          'statements from the request to the last update, change-log reads excluded',
          `${ownStatements(result)} (${WARMUP_SUBSCRIBERS} subscribers: ${ownStatements(warm)})`,
        ],
        ['snapshots built', `${result.snapshots} (${WARMUP_SUBSCRIBERS} subscribers: ${warm.snapshots})`],
        ['service RSS per idle subscriber', `${kb(perSubscriber)} (heap ${kb(heapPerSubscriber)})`],
        ['bare `ws` server RSS per idle connection', kb(floor.bytesPerConnection)],
        ['time to subscribe everyone', `${fmt(result.connectSeconds, 1)} s (${BATCH} at a time)`],
      ],
    ),
  );
  console.log('');
  console.log(
    `Targets: p99 under 1 s: **${met(service99 < TARGET_P99_MS)}**; at most 30 KB RSS per idle subscriber: ` +
      `**${met(perSubscriber <= TARGET_BYTES_PER_SUBSCRIBER)}**; statements independent of the number of ` +
      `subscribers: **${met(independent)}**. Every subscriber got exactly its expected final state: ` +
      `**${problems.length === 0 ? 'yes' : 'NO'}**.`,
  );
  return problems.length === 0;
}

await runBench(main);
