import { createClient } from 'graphql-ws';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../../src/edge/app/server.ts';
import {
  CancelBackorderDocument,
  WatchAvailabilityDocument,
  WatchBackorderDocument,
} from '../generated/graphql.ts';
import { startSecondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, order, placed, receive } from '../helpers/fixtures.ts';
import { connect, subscribe } from '../helpers/live.ts';

let t: TestApp;
let second: App;
let secondPort: number;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
  // A second instance on the same database: what one changes, the other's subscribers must hear.
  ({ app: second, port: secondPort } = await startSecondInstance(t));
});
afterAll(async () => {
  await second?.stop();
  await t?.stop();
});

describe('live updates across instances and failures', () => {
  it('delivers a change made through one instance to a subscriber of the other', async () => {
    const { id } = await createProduct(t, staff);
    const client = connect(secondPort);
    const sub = subscribe(client, WatchAvailabilityDocument, { productId: id });
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 0);
    await receive(t, staff, id, 7);
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 7);
    sub.stop();
    await client.dispose();
  });

  it('keeps delivering after the listening connection is terminated', async () => {
    const { id } = await createProduct(t, staff);
    const client = connect(secondPort);
    const sub = subscribe(client, WatchAvailabilityDocument, { productId: id });
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 0);
    const pid = second.live.wakeup.listenerPid;
    expect(pid).toBeTypeOf('number');
    const admin = new pg.Client({ connectionString: t.database.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    // Changes made while the listener is down arrive too: from the change log, after reconnect or poll.
    await receive(t, staff, id, 2);
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 2);
    await adjust(t, staff, id, 3);
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 5);
    await expect.poll(() => second.live.wakeup.listenerPid, { timeout: 10_000 }).not.toBe(pid);
    await expect.poll(() => second.live.wakeup.listenerPid, { timeout: 10_000 }).toBeTypeOf('number');
    sub.stop();
    await client.dispose();
  });

  it('moves those behind up when a backorder in the middle is cancelled', async () => {
    const { id } = await createProduct(t, staff);
    const tokens = await Promise.all([1, 2, 3].map((i) => t.token('customer', `mid-${i}`)));
    const ids: string[] = [];
    for (const token of tokens)
      ids.push(placed(await order(t, token, [{ productId: id, quantity: 2 }])).lines[0]!.backorder!.id);
    const client = connect(t.port, tokens[2]);
    const last = subscribe(client, WatchBackorderDocument, { id: ids[2]! });
    await last.until((d) => d.backorderUpdated.queuePosition === 3 && d.backorderUpdated.unitsAhead === 4);
    const res = await t.ok(CancelBackorderDocument, { id: ids[1]! }, tokens[1]);
    expect(res.cancelBackorder.__typename).toBe('CancelBackorderSuccess');
    await last.until((d) => d.backorderUpdated.queuePosition === 2 && d.backorderUpdated.unitsAhead === 2);
    last.stop();
    await client.dispose();
  });

  it('gives a client that reconnects the current state first', async () => {
    const { id } = await createProduct(t, staff);
    const first = connect(t.port);
    const sub = subscribe(first, WatchAvailabilityDocument, { productId: id });
    await sub.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 0);
    sub.stop();
    await first.dispose();
    await receive(t, staff, id, 4);
    const again = connect(secondPort);
    const resumed = subscribe(again, WatchAvailabilityDocument, { productId: id });
    const state = await resumed.until(() => true);
    expect(state.productAvailabilityChanged.availability.quantityAvailable).toBe(4);
    resumed.stop();
    await again.dispose();
  });

  it('closes the socket with 4403 for a forged token', async () => {
    const forged = `${(await t.token('staff')).slice(0, -4)}AAAA`;
    const closed = new Promise<number>((resolve) => {
      const client = createClient({
        url: `ws://127.0.0.1:${t.port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${forged}` },
        retryAttempts: 0,
        on: { closed: (event) => resolve((event as { code: number }).code) },
      });
      client.subscribe({ query: '{ __typename }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect(await closed).toBe(4403);
  });

  it('serves subscriptions over Server-Sent Events too', async () => {
    const { id } = await createProduct(t, staff);
    const controller = new AbortController();
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query:
          'subscription($id: ID!) { productAvailabilityChanged(productId: $id) { availability { quantityAvailable } } }',
        variables: { id },
      }),
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}: ${text}`);
        text += decoder.decode(value);
      }
    };
    await readUntil('"quantityAvailable":0');
    await receive(t, staff, id, 9);
    await readUntil('"quantityAvailable":9');
    controller.abort();
  });
});
