import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAuthenticator } from '../../src/edge/auth/tokens.ts';
import { TOKEN_DEFAULTS } from '../../src/edge/settings/defaults.ts';
import {
  CreateProductDocument,
  PlaceOrderDocument,
  ViewerDocument,
  WatchAvailabilityDocument,
} from '../generated/graphql.ts';
import { TEST_SECRET } from '../helpers/app.ts';
import { type ChildServer, startChildServer } from '../helpers/child-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const auth = createAuthenticator(TEST_SECRET, TOKEN_DEFAULTS);
let database: TestDatabase;
let server: ChildServer;
let productId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startChildServer(database.url);
  const staff = await auth.sign({ id: 'staff-log', role: 'staff' });
  const created = await post(
    { query: print(CreateProductDocument), variables: { input: { sku: 'LOG-1', name: 'Log' } } },
    { authorization: `Bearer ${staff}` },
  );
  productId = (created.body.data as { createProduct: { product: { id: string } } }).createProduct.product.id;
});
afterAll(async () => {
  server?.process.kill('SIGTERM');
  await server?.exited;
  await database?.drop();
});

async function post(body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as { data?: unknown; errors?: { message: string }[] } };
}

/** The log lines with these fields, waiting a little for them to be written. */
async function linesWith(fields: Record<string, unknown>): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const found = server.lines().filter((line) => Object.entries(fields).every(([k, v]) => line[k] === v));
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no log line with ${JSON.stringify(fields)}:\n${server.stderr()}`);
}

describe('request logs', () => {
  it('writes one JSON line per request: id, operation, role and subject, status, duration; never the token', async () => {
    const token = await auth.sign({ id: 'c-log-1', role: 'customer' });
    const { res } = await post(
      { query: print(ViewerDocument), operationName: 'Viewer' },
      { authorization: `Bearer ${token}`, 'x-request-id': 'trace-abc-1' },
    );
    expect(res.headers.get('x-request-id')).toBe('trace-abc-1');
    const [line] = await linesWith({ msg: 'request', requestId: 'trace-abc-1' });
    expect(line).toMatchObject({
      level: 'info',
      method: 'POST',
      path: '/graphql',
      transport: 'http',
      operation: 'Viewer',
      role: 'customer',
      subject: 'c-log-1',
      status: 200,
      result: 'ok',
    });
    expect(line!.ms).toEqual(expect.any(Number));
    expect(line!.time).toEqual(expect.any(String));

    const anonymous = await post({ query: '{ __typename }' });
    const id = anonymous.res.headers.get('x-request-id')!;
    const [made] = await linesWith({ msg: 'request', requestId: id });
    expect(made).toMatchObject({ role: 'anonymous', status: 200 });
    expect(made!.subject).toBeUndefined();

    expect(server.stderr()).not.toContain(token);
    expect(server.stderr()).not.toContain(token.split('.')[2]);
  });

  it('logs an internal error with its stack under the id of the request it masked', async () => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query('SELECT 1 FROM stock FOR UPDATE');
      const customer = await auth.sign({ id: 'c-log-2', role: 'customer' });
      const answer = post(
        {
          query: print(PlaceOrderDocument),
          variables: {
            input: { idempotencyKey: 'log-1', acceptBackorder: true, lines: [{ productId, quantity: 1 }] },
          },
        },
        { authorization: `Bearer ${customer}`, 'x-request-id': 'trace-fail-1' },
      );
      // The order waits on the lock; its connection is cut under it: a fault, not the customer's doing.
      let pid: number | undefined;
      for (let i = 0; i < 200 && pid === undefined; i++) {
        const { rows } = await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
             AND application_name = 'backorder-api' AND wait_event_type = 'Lock'`,
        );
        pid = rows[0]?.pid;
        if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const { body } = await answer;
      expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      await admin.query('ROLLBACK');
      await admin.end();
    }
    const [error] = await linesWith({ level: 'error', requestId: 'trace-fail-1' });
    expect(error!.msg).toBe('internal error');
    expect((error!.err as { stack: string }).stack).toContain('\n    at ');
    const [request] = await linesWith({ msg: 'request', requestId: 'trace-fail-1' });
    expect(request).toMatchObject({
      operation: 'PlaceOrder',
      role: 'customer',
      subject: 'c-log-2',
      result: 'error',
    });
  });

  it('writes a line when a WebSocket subscription starts and one when it ends', async () => {
    const token = await auth.sign({ id: 'c-log-ws', role: 'customer' });
    const client = createClient({
      url: `ws://127.0.0.1:${server.port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const first = new Promise<void>((resolve) => {
      const stop = client.subscribe(
        { query: print(WatchAvailabilityDocument), variables: { productId } },
        {
          next: () => {
            stop();
            resolve();
          },
          error: () => resolve(),
          complete: () => {},
        },
      );
    });
    await first;
    const [started] = await linesWith({ msg: 'ws subscription started', subject: 'c-log-ws' });
    expect(started).toMatchObject({ operation: 'WatchAvailability', role: 'customer' });
    const [ended] = await linesWith({ msg: 'ws operation', requestId: started!.requestId });
    expect(ended).toMatchObject({ transport: 'ws', operation: 'WatchAvailability', result: 'ok' });
    await client.dispose();
  });
});

describe('plain lines', () => {
  it('in development without LOG_FORMAT: time, level, message and fields on one line', async () => {
    const db = await createTestDatabase();
    const plain = await startChildServer(db.url, { LOG_FORMAT: '' });
    try {
      await fetch(plain.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'plain-1' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      for (let i = 0; i < 100 && !plain.stderr().includes('requestId=plain-1'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const line = plain
        .stderr()
        .split('\n')
        .find((l) => l.includes('requestId=plain-1'));
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}request .*status=200/);
      expect(plain.stderr()).not.toMatch(/^\{/m);
    } finally {
      plain.process.kill('SIGTERM');
      await plain.exited;
      await db.drop();
    }
  });
});
