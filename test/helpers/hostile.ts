import type { Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { log } from '../../src/base/log.ts';
import { startTestApp, type TestApp, type TestAppOptions } from './app.ts';
import { createProduct, order, receive, schedule } from './fixtures.ts';
import { rawExchange } from './raw-http.ts';

/**
 * The harness of the hostile-input table (test/e2e/hostile-input.test.ts): what a case sends, over which
 * transport, who sends it, what it must get back, and a fingerprint of the database to prove it wrote
 * nothing.
 */

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
export const JSON_ONLY = 'application/json';

/** What the table's cases may refer to in the database their app runs on. */
export interface Fixtures {
  productId: string;
  sku: string;
  inboundId: string;
}

/** Values that depend on the fixtures are given as functions of them. */
type Lazy<T> = T | ((f: Fixtures) => T);
const resolve = <T>(value: Lazy<T>, f: Fixtures): T =>
  typeof value === 'function' ? (value as (f: Fixtures) => T)(f) : value;

interface Operation {
  query: string;
  variables?: Lazy<Record<string, unknown>>;
  operationName?: string;
}

/** One HTTP request. A body that is an Operation is sent as JSON. */
interface HttpSend {
  http: {
    method?: string;
    /** Parameters of the URL (a GET request's operation). */
    search?: Record<string, string>;
    headers?: Record<string, string>;
    body?: Lazy<Operation | BodyInit>;
    accept?: string;
  };
}
/** Bytes written on a fresh TCP connection; the answer is whatever comes back before it closes. */
interface RawSend {
  raw: (socket: Socket) => void;
}
/**
 * A graphql-ws session: a subscription is held open first, then each operation is sent and answered; a
 * `{ __typename }` probe follows. `late`: the operations are read only once the caller's token expired.
 * `frame`: a message sent as it is, not as an operation.
 */
interface WsSend {
  ws: Operation[];
  late?: boolean;
  frame?: string;
}
export type Send = HttpSend | RawSend | WsSend;

type Role = 'anonymous' | 'customer' | 'staff';
/** A role's valid token, or the case's own (bad) token. */
type Who = Role | (() => Promise<string>);

export interface Expected {
  /** HTTP status; every case must get one below 500. */
  status?: number;
  /** `extensions.code` of an error in the answer (over WebSocket: of each operation's error). */
  code?: string;
  /** An error message in the answer (raw: the whole answer) matches. */
  message?: RegExp;
  /** No `data` key at all (a refused document). */
  noData?: boolean;
  /** The close code of the socket; without it the socket must stay open, its subscription live. */
  close?: number;
  /** Over WebSocket: how each operation ended, an `error` message or a `next` carrying errors. */
  ends?: 'error' | 'next';
  /** Response headers (null: absent). */
  headers?: Record<string, string | null>;
  /** The answer's size in bytes; 16 KB unless given. */
  maxBytes?: number;
  maxMs?: number;
  /** A raw connection ends with a clean close, not a reset. */
  cleanClose?: boolean;
  /** Anything else about the answer. */
  check?: (answer: Answer) => void;
}

export interface Case<App extends string> {
  name: string;
  /** Which app receives it; the table's first app unless given. */
  app?: App;
  who?: Who;
  send: Send;
  expect: Expected;
}

interface AnswerError {
  message: string;
  extensions?: Record<string, unknown>;
}

interface Answer {
  status?: number;
  headers?: Headers;
  text: string;
  body?: { data?: unknown; errors?: AnswerError[] } | null;
  /** Every error of the answer; over WebSocket those of the hostile operations. */
  errors: AnswerError[];
  bytes: number;
  ms: number;
  ended?: 'end' | 'reset';
  ws?: WsOutcome;
}

interface WsOutcome {
  /** Set when the server closed the socket. */
  close?: number;
  /** How each operation ended: 'error', 'next' (a result, then complete), or 'none' (never answered). */
  ops: { ended: 'error' | 'next' | 'none'; errors: AnswerError[]; results: number }[];
  watchEnded: boolean;
  probe: 'answered' | 'none';
}

/* ---------- the database, before and after ---------- */

/** Rows of every table (checksummed whole: stock counters, backorders, orders, ...) and every sequence. */
async function fingerprint(app: TestApp): Promise<Record<string, string>> {
  const db = app.database.db;
  const tables = await sql<{ name: string }>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_migration%'
    ORDER BY table_name`.execute(db);
  const print: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const { rows } = await sql<{ n: number; sum: string }>`
      SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS sum
      FROM ${sql.table(name)} t`.execute(db);
    print[name] = `${rows[0]!.n} rows, ${rows[0]!.sum}`;
  }
  // A write that began and was rolled back would still have taken an id.
  const sequences = await sql<{ name: string; last: string | null }>`
    SELECT sequencename AS name, last_value::text AS last FROM pg_sequences WHERE schemaname = 'public'`.execute(
    db,
  );
  for (const { name, last } of sequences.rows) print[`sequence ${name}`] = String(last);
  return print;
}

/* ---------- sending ---------- */

function parse(text: string): Answer['body'] {
  try {
    const body = JSON.parse(text);
    return typeof body === 'object' ? body : null;
  } catch {
    return null;
  }
}

async function sendHttp(app: TestApp, token: string | undefined, send: HttpSend['http'], f: Fixtures) {
  const started = Date.now();
  const body = send.body === undefined ? undefined : resolve(send.body, f);
  const isOperation = typeof body === 'object' && body !== null && 'query' in body;
  const url = send.search ? `${app.url}?${new URLSearchParams(send.search)}` : app.url;
  const res = await fetch(url, {
    method: send.method ?? 'POST',
    headers: {
      accept: send.accept ?? GRAPHQL_RESPONSE,
      ...(isOperation ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...send.headers,
    },
    body: isOperation
      ? JSON.stringify({ ...body, variables: body.variables && resolve(body.variables, f) })
      : (body as BodyInit | undefined),
  });
  const text = await res.text();
  const parsed = parse(text);
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: parsed,
    errors: parsed?.errors ?? [],
    bytes: Buffer.byteLength(text),
    ms: Date.now() - started,
  } satisfies Answer;
}

async function sendRaw(app: TestApp, write: RawSend['raw']): Promise<Answer> {
  const { text, ended, ms } = await rawExchange(app.port, write);
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  const parsed = parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  return {
    status: status ? Number(status[1]) : undefined,
    text,
    body: parsed,
    errors: parsed?.errors ?? [],
    bytes: text.length,
    ms,
    ended,
  };
}

const WATCH =
  'subscription ($id: ID!) { productAvailabilityChanged(productId: $id) { availability { quantityAvailable } } }';

/** The `exp` of a JWT, in ms. */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  return payload.exp * 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function sendWs(app: TestApp, token: string | undefined, send: WsSend, f: Fixtures): Promise<Answer> {
  const started = Date.now();
  const socket = new WebSocket(`ws://127.0.0.1:${app.port}/graphql`, 'graphql-transport-ws');
  const messages: { id?: string; type: string; payload?: unknown }[] = [];
  let bytes = 0;
  let close: number | undefined;
  let wake: () => void = () => {};
  const changed = () => wake();
  socket.on('message', (data) => {
    bytes += (data as Buffer).length;
    messages.push(JSON.parse(String(data)));
    changed();
  });
  socket.on('close', (code) => {
    close ??= code;
    changed();
  });
  socket.on('error', () => {});
  /** Waits until `test` holds or the socket closed; false when it timed out or closed first. */
  const until = async (test: () => boolean, ms = 5000): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (close !== undefined || Date.now() > deadline) return test();
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
    return true;
  };
  const of = (id: string) => messages.filter((m) => m.id === id);
  const ended = (id: string) => of(id).some((m) => m.type === 'error' || m.type === 'complete');
  const subscribe = (id: string, op: Operation) =>
    socket.send(
      JSON.stringify({
        id,
        type: 'subscribe',
        payload: {
          query: op.query,
          operationName: op.operationName,
          variables: resolve(op.variables ?? {}, f),
        },
      }),
    );

  await new Promise((r) => socket.once('open', r));
  socket.send(
    JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }),
  );
  const outcome: WsOutcome = { ops: [], watchEnded: false, probe: 'none' };
  if (await until(() => messages.some((m) => m.type === 'connection_ack'))) {
    subscribe('watch', { query: WATCH, variables: { id: f.productId } });
    await until(() => of('watch').some((m) => m.type === 'next'));
    if (send.late && token) {
      // Sent just before the token expires and read only after (this process serves too): the server must
      // not run it even if its own expiry timer has not fired yet.
      const expiry = expiryOf(token);
      await sleep(expiry - Date.now() - 40);
      for (const [i, op] of send.ws.entries()) subscribe(`op${i}`, op);
      while (Date.now() < expiry + 200) {
        // busy: hold the server's event loop past the expiry
      }
    } else if (send.frame !== undefined) {
      socket.send(send.frame);
    }
    for (const [i, op] of send.ws.entries()) {
      if (!send.late) subscribe(`op${i}`, op);
      await until(() => ended(`op${i}`));
      const mine = of(`op${i}`);
      const error = mine.find((m) => m.type === 'error');
      const results = mine.filter((m) => m.type === 'next');
      outcome.ops.push({
        ended: error ? 'error' : ended(`op${i}`) ? 'next' : 'none',
        errors: error
          ? (error.payload as AnswerError[])
          : results.flatMap((m) => (m.payload as { errors?: AnswerError[] }).errors ?? []),
        results: results.length,
      });
    }
    if (send.frame !== undefined) await until(() => false, 300);
    if (close === undefined) {
      subscribe('probe', { query: '{ __typename }' });
      await until(() => ended('probe'));
      if (of('probe').some((m) => m.type === 'next')) outcome.probe = 'answered';
    }
    outcome.watchEnded = ended('watch');
  } else {
    await until(() => close !== undefined);
  }
  outcome.close = close;
  if (close === undefined) {
    socket.close(1000);
    await until(() => close !== undefined);
  }
  const errors = outcome.ops.flatMap((op) => op.errors);
  const text = JSON.stringify(messages);
  return { text, errors, bytes, ms: Date.now() - started, ws: outcome };
}

function send(app: TestApp, token: string | undefined, what: Send, f: Fixtures): Promise<Answer> {
  if ('http' in what) return sendHttp(app, token, what.http, f);
  if ('raw' in what) return sendRaw(app, what.raw);
  return sendWs(app, token, what, f);
}

/* ---------- what every answer must be ---------- */

/** Runs of at least this many characters of the request must not come back. */
const ECHO = 101;

/** The request's text, to look for it in the answer. */
function sentText(what: Send, f: Fixtures): string {
  if ('raw' in what) return '';
  if ('ws' in what)
    return what.ws.map((op) => op.query + JSON.stringify(resolve(op.variables ?? {}, f))).join('');
  const body = what.http.body === undefined ? '' : resolve(what.http.body, f);
  if (typeof body === 'string') return body;
  if (typeof body === 'object' && body !== null && 'query' in body) {
    return body.query + JSON.stringify(resolve(body.variables ?? {}, f));
  }
  return '';
}

/** No window of ECHO characters of the request (one every 10) appears in the answer. */
function expectNoEcho(request: string, answer: string): void {
  const windows = new Set<string>();
  for (let i = 0; i + ECHO <= request.length; i += 10) windows.add(request.slice(i, i + ECHO));
  for (const window of windows) {
    if (answer.includes(window)) expect.fail(`the answer repeats the request: ${window.slice(0, 60)}…`);
  }
}

function expectAnswer(c: Case<string>, answer: Answer, f: Fixtures): void {
  const e = c.expect;
  const brief = `${c.name}: ${answer.text.slice(0, 300)}`;
  if (answer.status !== undefined) expect(answer.status, brief).toBeLessThan(500);
  if (e.status !== undefined) expect(answer.status, brief).toBe(e.status);
  if (e.code !== undefined) {
    expect(answer.errors.length, brief).toBeGreaterThan(0);
    const codes = answer.errors.map((error) => error.extensions?.code);
    if ('ws' in c.send)
      expect(
        codes.every((code) => code === e.code),
        brief,
      ).toBe(true);
    else expect(codes, brief).toContain(e.code);
  }
  if (e.message !== undefined) {
    const messages = 'raw' in c.send ? [answer.text] : answer.errors.map((error) => error.message);
    expect(
      messages.some((m) => e.message!.test(m)),
      `${brief}\nmessages: ${messages.join(' / ')}`,
    ).toBe(true);
  }
  if (e.noData) expect(answer.body ?? {}, brief).not.toHaveProperty('data');
  for (const [name, value] of Object.entries(e.headers ?? {})) {
    expect(answer.headers?.get(name) ?? null, `${c.name}: header ${name}`).toBe(value);
  }
  if (e.cleanClose) expect(answer.ended, brief).toBe('end');
  if (e.maxMs !== undefined) expect(answer.ms, brief).toBeLessThan(e.maxMs);
  expect(answer.bytes, brief).toBeLessThanOrEqual(e.maxBytes ?? 16_384);
  for (const error of answer.errors) {
    expect(error.message.length, brief).toBeLessThanOrEqual(ECHO);
    // A fault masked as "Unexpected error." would still be a 200: the input must be refused, not crash.
    expect(error.extensions?.code, brief).not.toBe('INTERNAL_SERVER_ERROR');
    expect(error.message, brief).not.toBe('Unexpected error.');
  }
  expectNoEcho(sentText(c.send, f), answer.text);
  const ws = answer.ws;
  if (ws) {
    if (e.close !== undefined) {
      expect(ws.close, brief).toBe(e.close);
      // Whatever the socket was asked before it closed never ran.
      expect(
        ws.ops.every((op) => op.results === 0),
        brief,
      ).toBe(true);
    } else {
      expect(ws.close, brief).toBeUndefined();
      expect(ws.ops.length, brief).toBe((c.send as WsSend).ws.length);
      expect(
        ws.ops.every((op) => op.ended !== 'none'),
        brief,
      ).toBe(true);
      if (e.ends)
        expect(
          ws.ops.map((op) => op.ended),
          brief,
        ).toEqual(ws.ops.map(() => e.ends));
      // The socket's other subscription goes on, and it answers the next operation.
      expect(ws.watchEnded, brief).toBe(false);
      expect(ws.probe, brief).toBe('answered');
    }
  }
  e.check?.(answer);
}

/* ---------- row builders ---------- */

/** A JSON POST of one operation. */
export const post = (
  query: string,
  variables?: Lazy<Record<string, unknown>>,
  accept = GRAPHQL_RESPONSE,
): HttpSend => ({ http: { body: { query, variables }, accept } });

/** The operations over a WebSocket, each answered alone. */
export const ws = (query: string, variables?: Lazy<Record<string, unknown>>): WsSend => ({
  ws: [{ query, variables }],
});

/** A mutation of `field(input: $input)` selecting only its result's type. */
export const mutation = (field: string, inputType: string) =>
  `mutation ($input: ${inputType}!) { ${field}(input: $input) { __typename } }`;

/** A refused document or operation: BAD_USER_INPUT naming the limit, the value and the bound, no data. */
export const refusal = (limit: string, value: number, bound: number, status = 400): Expected => ({
  status,
  code: 'BAD_USER_INPUT',
  message: new RegExp(`${value}.*${bound}`),
  noData: true,
  check: (answer) =>
    expect(answer.errors.find((error) => error.extensions?.limit === limit)?.extensions).toMatchObject({
      limit,
      value,
      bound,
    }),
});

/** The same answer over a WebSocket: an `error` message for that operation alone. */
export const overWs = ({
  status: _status,
  noData: _noData,
  headers: _headers,
  ...expected
}: Expected): Expected => ({
  ...expected,
  ends: 'error',
});

/** Input outside the contract's bounds, refused by the field: BAD_USER_INPUT naming the field. */
export const outOfBounds = (message: RegExp): Expected => ({ status: 200, code: 'BAD_USER_INPUT', message });

/* ---------- the table ---------- */

interface Running {
  app: TestApp;
  fixtures: Fixtures;
  tokens: Record<Role, string | undefined>;
}

/**
 * Waits until what follows the fixtures' commits in the background (the outbox relay polls every second)
 * has written all it writes: the database unchanged for 2.5 s.
 */
async function settled(app: TestApp): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = JSON.stringify(await fingerprint(app));
  let quietSince = Date.now();
  while (Date.now() - quietSince < 2500) {
    if (Date.now() > deadline) throw new Error('the database never settled after the fixtures');
    await sleep(250);
    const now = JSON.stringify(await fingerprint(app));
    if (now !== last) quietSince = Date.now();
    last = now;
  }
}

async function run(options: TestAppOptions): Promise<Running> {
  const app = await startTestApp(options);
  const staff = await app.token('staff', 'hostile-staff');
  const customer = await app.token('customer', 'hostile-customer');
  const { id: productId, sku } = await createProduct(app, staff, { lowStockThreshold: 2 });
  await receive(app, staff, productId, 10);
  const inbound = await schedule(app, staff, productId, 20, new Date(Date.now() + 7 * 86_400_000));
  // Something of the customer's for its pages to hold: one line taken from stock, one on backorder.
  await order(app, customer, [{ productId, quantity: 12 }]);
  await settled(app);
  return {
    app,
    fixtures: { productId, sku, inboundId: inbound.id },
    tokens: { anonymous: undefined, customer, staff },
  };
}

/**
 * One test per case: the case's app receives it from its sender, the answer must be what the case expects
 * (and below 500, small, echoing nothing), and the database must be exactly as it was. `apps` names each
 * app's options; a case without `app` goes to the first.
 */
export function hostileTable<A extends string>(apps: Record<A, TestAppOptions>, cases: Case<A>[]): void {
  const names = Object.keys(apps) as A[];
  const running = new Map<A, Running>();
  beforeAll(async () => {
    const started = await Promise.all(names.map((name) => run(apps[name])));
    for (const [i, name] of names.entries()) running.set(name, started[i]!);
  });
  afterAll(() => Promise.all([...running.values()].map(({ app }) => app.stop())));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const { app, fixtures, tokens } = running.get(c.app ?? names[0]!)!;
    const who = c.who ?? 'anonymous';
    const token = typeof who === 'function' ? await who() : tokens[who];
    const before = await fingerprint(app);
    // Hostile input is the client's doing: nothing may be logged as an error (a fault, or a library's stack).
    const faults = vi.spyOn(log, 'error');
    const stacks = vi.spyOn(console, 'error');
    try {
      const answer = await send(app, token, c.send, fixtures);
      expectAnswer(c, answer, fixtures);
      const logged = [...faults.mock.calls, ...stacks.mock.calls].map(([message]) => String(message));
      expect(logged, `${c.name} logged an error`).toEqual([]);
    } finally {
      faults.mockRestore();
      stacks.mockRestore();
    }
    expect(await fingerprint(app), `${c.name} changed the database`).toEqual(before);
  });

  it('control: a receipt within the bounds changes a counter, and the fingerprint sees it', async () => {
    const { app, fixtures, tokens } = running.get(names[0]!)!;
    const before = await fingerprint(app);
    const answer = await send(
      app,
      tokens.staff,
      post(mutation('receiveStock', 'ReceiveStockInput'), {
        input: { productId: fixtures.productId, quantity: 1 },
      }),
      fixtures,
    );
    expect(answer.body?.data).toEqual({ receiveStock: { __typename: 'ReceiveStockSuccess' } });
    const after = await fingerprint(app);
    expect(after.stock).not.toBe(before.stock);
  });
}
