import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/edge/app/server.ts';
import {
  BackorderDocument,
  StockOfDocument,
  WatchAvailabilityDocument,
  WatchBackorderDocument,
} from '../generated/graphql.ts';
import { startSecondInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { adjust, createProduct, order, placed } from '../helpers/fixtures.ts';
import { connect, type Subscription, subscribe } from '../helpers/live.ts';

/** Short enough that a held lock outlasts several statements; each failed recomputation is then retried. */
const STATEMENT_TIMEOUT_MS = 400;
/** The contract's promise: a subscriber holds the committed state within a second of the database answering. */
const RECOVERY_MS = 1_000;

let t: TestApp;
let second: App;
let secondPort: number;
let staff: string;
let admin: pg.Client;

beforeAll(async () => {
  t = await startTestApp({ statementTimeoutMs: STATEMENT_TIMEOUT_MS });
  staff = await t.token('staff');
  ({ app: second, port: secondPort } = await startSecondInstance(t, {
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
  }));
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await second?.stop();
  await t?.stop();
});

/** A product with a waiting backorder, watched for availability and for the backorder on both instances. */
async function watchedProduct() {
  const { id, sku } = await createProduct(t, staff);
  const customer = await t.token('customer', `faults-${sku}`);
  const backorderId = placed(await order(t, customer, [{ productId: id, quantity: 3 }])).lines[0]!.backorder!
    .id;
  const clients = [connect(t.port, customer), connect(secondPort, customer)];
  const availability = clients.map((c) => subscribe(c, WatchAvailabilityDocument, { productId: id }));
  const backorder = clients.map((c) => subscribe(c, WatchBackorderDocument, { id: backorderId }));
  for (const sub of availability)
    await sub.until((d) => d.productAvailabilityChanged.availability.queueLength === 1);
  for (const sub of backorder) await sub.until((d) => d.backorderUpdated.status === 'WAITING');
  return {
    id,
    sku,
    customer,
    backorderId,
    availability,
    backorder,
    async close() {
      for (const sub of [...availability, ...backorder]) sub.stop();
      await Promise.all(clients.map((c) => c.dispose()));
    },
  };
}

/** What a query says now: the committed state every subscriber must end on. */
async function committedAvailable(sku: string): Promise<number> {
  for (;;) {
    const res = await t.gql(StockOfDocument, { sku }, staff).catch(() => null);
    const stock = res?.data?.product?.stock;
    if (stock) return stock.available;
  }
}

async function holdsWithin<R>(
  subs: Subscription<R>[],
  test: (data: R) => boolean,
  ms: number,
): Promise<void> {
  await Promise.all(subs.map((sub) => sub.until(test, ms)));
  for (const sub of subs) expect(test(sub.latest()!)).toBe(true);
}

describe('live updates when the database fails', () => {
  it('recover once a lock that outlasts the statement timeout is released, on both instances', async () => {
    const p = await watchedProduct();
    const locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    try {
      // Every recomputation reads the product's open inbound shipments: hold them past several timeouts.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE inbound_shipment IN ACCESS EXCLUSIVE MODE');
      const attempts = [t.app.live.hub.snapshots, second.live.hub.snapshots];
      const adjusted = await adjust(t, staff, p.id, 5);
      expect(adjusted.__typename).toBe('AdjustStockSuccess');
      await new Promise((resolve) => setTimeout(resolve, STATEMENT_TIMEOUT_MS * 4));
      // Nothing could be recomputed meanwhile: the subscribers still show the state before the change.
      for (const sub of p.backorder) expect(sub.latest()?.backorderUpdated.status).toBe('WAITING');
      // ...and each instance kept trying: its first recomputation and at least two retries.
      expect(t.app.live.hub.snapshots - attempts[0]!).toBeGreaterThanOrEqual(3);
      expect(second.live.hub.snapshots - attempts[1]!).toBeGreaterThanOrEqual(3);
      const waiting = [...p.availability.map((s) => s.next()), ...p.backorder.map((s) => s.next())];
      await locker.query('ROLLBACK');
      const released = Date.now();
      // The 5 units filled the 3 waiting; 2 are left for anyone.
      await holdsWithin(
        p.availability,
        (d) => d.productAvailabilityChanged.availability.quantityAvailable === 2,
        RECOVERY_MS,
      );
      await holdsWithin(p.backorder, (d) => d.backorderUpdated.status === 'ALLOCATED', RECOVERY_MS);
      await Promise.all(waiting);
      expect(Date.now() - released).toBeLessThan(RECOVERY_MS);
      expect(await committedAvailable(p.sku)).toBe(2);
    } finally {
      await locker.end();
      await p.close();
    }
  });

  it('end on the committed state when the hubs lose their connections while changes commit, on both instances', async () => {
    const p = await watchedProduct();
    const locker = new pg.Client({ connectionString: t.database.url });
    await locker.connect();
    try {
      const { rows } = await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // Every connection of both instances (pools and listeners), never the test's own.
      const cutAll = () =>
        admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> $1
              AND backend_type = 'client backend'`,
          [rows[0]!.pid],
        );
      // Changes commit while the connections are cut again and again; some writes fail, and write nothing.
      const writes: Promise<unknown>[] = [];
      for (let round = 0; round < 6; round++) {
        writes.push(adjust(t, staff, p.id, 1).catch(() => null));
        writes.push(adjust(t, staff, p.id, 1).catch(() => null));
        await new Promise((resolve) => setTimeout(resolve, 15));
        await cutAll();
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      await Promise.all(writes);
      // The last change's recomputation is under way (held by a short lock) when the connections go.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE inbound_shipment IN ACCESS EXCLUSIVE MODE');
      const attempts = [t.app.live.hub.snapshots, second.live.hub.snapshots];
      expect((await adjust(t, staff, p.id, 2)).__typename).toBe('AdjustStockSuccess');
      await expect.poll(() => t.app.live.hub.snapshots).toBeGreaterThan(attempts[0]!);
      await expect.poll(() => second.live.hub.snapshots).toBeGreaterThan(attempts[1]!);
      await cutAll();
      await locker.query('ROLLBACK');
      const cut = Date.now();

      const available = await committedAvailable(p.sku);
      const { data } = await t.gql(BackorderDocument, { id: p.backorderId }, p.customer);
      const status = data?.backorder?.status;
      expect(status).toBeDefined();
      await holdsWithin(
        p.availability,
        (d) => d.productAvailabilityChanged.availability.quantityAvailable === available,
        RECOVERY_MS,
      );
      await holdsWithin(p.backorder, (d) => d.backorderUpdated.status === status, RECOVERY_MS);
      expect(Date.now() - cut).toBeLessThan(RECOVERY_MS + 200);
    } finally {
      await locker.end();
      await p.close();
    }
  });
});
