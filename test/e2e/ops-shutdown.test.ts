import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createAuthenticator } from '../../src/edge/auth/tokens.ts';
import { TOKEN_DEFAULTS } from '../../src/edge/settings/defaults.ts';
import {
  CreateProductDocument,
  PlaceOrderDocument,
  ReceiveStockDocument,
  WatchAvailabilityDocument,
} from '../generated/graphql.ts';
import { TEST_SECRET } from '../helpers/app.ts';
import { type ChildServer, startChildServer } from '../helpers/child-server.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const auth = createAuthenticator(TEST_SECRET, TOKEN_DEFAULTS);
let database: TestDatabase;
let child: ChildServer | undefined;
let locker: pg.Client | undefined;

beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await locker?.end().catch(() => {});
  locker = undefined;
  if (child && child.process.exitCode === null) child.process.kill('SIGKILL');
  await child?.exited;
  child = undefined;
  await database.drop();
});

async function send<R, V>(url: string, document: TypedDocumentNode<R, V>, variables: V, token: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { data?: R; errors?: { extensions?: { code?: string } }[] },
  };
}

/** A product with stock, and a second connection holding its stock row: an order for it waits there. */
async function productHeldByALock(server: ChildServer) {
  const staff = await auth.sign({ id: 'staff-1', role: 'staff' });
  const created = await send(
    server.url,
    CreateProductDocument,
    { input: { sku: 'SHUT-1', name: 'Held' } },
    staff,
  );
  const product = created.body.data!.createProduct;
  if (product.__typename !== 'CreateProductSuccess') throw new Error('createProduct failed');
  const productId = product.product.id;
  await send(server.url, ReceiveStockDocument, { input: { productId, quantity: 10 } }, staff);
  locker = new pg.Client({ connectionString: database.url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('SELECT 1 FROM stock FOR UPDATE');
  return productId;
}

/** Resolves once an order of the server is waiting on the lock: provably in flight. */
async function waitingOnTheLock(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await locker!.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'backorder-api' AND wait_event_type = 'Lock'`,
    );
    if (rows[0]!.n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the order never reached the lock');
}

const orderInput = (productId: string, key: string) => ({
  input: { idempotencyKey: key, acceptBackorder: false, lines: [{ productId, quantity: 1 }] },
});

async function ordersInDatabase(): Promise<number> {
  const { rows } = await locker!.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_order');
  return rows[0]!.n;
}

describe('SIGTERM', () => {
  it('answers and commits the order in flight, refuses new ones, closes sockets with 1001, then exits', async () => {
    child = await startChildServer(database.url, { SHUTDOWN_TIMEOUT_MS: '15000' });
    const server = child;
    const productId = await productHeldByALock(server);
    const customer = await auth.sign({ id: 'c-shut', role: 'customer' });

    let subscribed: () => void = () => {};
    const firstMessage = new Promise<void>((resolve) => {
      subscribed = resolve;
    });
    const closed = new Promise<number>((resolve) => {
      const ws = createClient({
        url: `ws://127.0.0.1:${server.port}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      ws.subscribe(
        { query: print(WatchAvailabilityDocument), variables: { productId } },
        { next: () => subscribed(), error: () => {}, complete: () => {} },
      );
    });
    await firstMessage;

    const inFlight = send(server.url, PlaceOrderDocument, orderInput(productId, 'held'), customer);
    await waitingOnTheLock();
    server.process.kill('SIGTERM');

    // Unready at once (as soon as the signal is handled); alive still; new work refused.
    const signalled = Date.now();
    let ready = await fetch(`${server.base}/ready`);
    while (ready.status === 200 && Date.now() - signalled < 1000) ready = await fetch(`${server.base}/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toBe('shutting down');
    expect((await fetch(`${server.base}/health`)).status).toBe(200);
    const late = await send(server.url, PlaceOrderDocument, orderInput(productId, 'late'), customer);
    expect(late.status).toBe(503);
    expect(late.body.errors?.[0]?.extensions?.code).toBe('SHUTTING_DOWN');
    expect(await closed).toBe(1001);

    // The order in flight still goes through once the lock is released.
    await locker!.query('COMMIT');
    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.body.data?.placeOrder.__typename).toBe('PlaceOrderSuccess');
    expect(await server.exited, server.stderr()).toEqual({ code: 0, signal: null });
    expect(await ordersInDatabase()).toBe(1);
    await expect(fetch(`${server.base}/health`)).rejects.toThrow();

    const requests = server.lines().filter((l) => l.msg === 'request' && l.path === '/graphql');
    expect(requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ operation: 'PlaceOrder', status: 200, result: 'ok' }),
        expect.objectContaining({ status: 503, result: 'refused', refused: 'shutdown' }),
      ]),
    );
  });

  it('cuts what still runs when the shutdown time is up, and exits within it', async () => {
    child = await startChildServer(database.url, { SHUTDOWN_TIMEOUT_MS: '1500' });
    const server = child;
    const productId = await productHeldByALock(server);
    const customer = await auth.sign({ id: 'c-slow', role: 'customer' });
    const inFlight = send(server.url, PlaceOrderDocument, orderInput(productId, 'stuck'), customer).then(
      (r) => r.status,
      () => 'cut',
    );
    await waitingOnTheLock();
    const started = Date.now();
    server.process.kill('SIGTERM');
    expect(await server.exited, server.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(1500 + 1000);
    expect(await inFlight).toBe('cut');
    // The process is gone, its transaction rolled back: nothing was ordered.
    await locker!.query('COMMIT');
    expect(await ordersInDatabase()).toBe(0);
  });
});
