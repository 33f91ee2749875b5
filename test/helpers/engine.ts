import { expect } from 'vitest';
import {
  type BackorderStatus,
  EngineAvailabilityDocument,
  EngineBackorderDocument,
  EngineCancelBackorderDocument,
  EngineLedgerDocument,
  EngineOrderNodeDocument,
  EngineQueueDocument,
  EngineShipOrderDocument,
  EngineViewerOrdersDocument,
  PlaceOrderDocument,
} from '../generated/graphql.ts';
import type { TestApp } from './app.ts';
import { type PlaceOrderResult, placed, stockOf, uniqueKey } from './fixtures.ts';

let subCounter = 0;

/** A customer of its own: a fresh `sub`, so its orders and backorders are only those the test makes. */
export async function newCustomer(t: TestApp, prefix = 'cust'): Promise<{ sub: string; token: string }> {
  const sub = `${prefix}-${process.pid}-${++subCounter}`;
  return { sub, token: await t.token('customer', sub) };
}

export async function newCustomers(t: TestApp, n: number, prefix = 'cust') {
  return Promise.all(Array.from({ length: n }, () => newCustomer(t, prefix)));
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS);

/** `time` rounded up to the next full hour (an exact hour stays). */
export function ceilToHour(time: number): string {
  return new Date(Math.ceil(time / HOUR_MS) * HOUR_MS).toISOString();
}

/**
 * Runs `fn` and returns what it returned with the wall-clock window around it, so that an estimate the
 * server computed from "now" can be checked exactly against the ones that window allows.
 */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; before: number; after: number }> {
  const before = Date.now();
  const value = await fn();
  return { value, before, after: Date.now() };
}

/** The lead-time fallback as the server must have computed it at some instant of the window. */
export function expectLeadTimeEta(
  actual: string | null | undefined,
  window: { before: number; after: number },
  days: number,
) {
  const allowed = new Set([
    ceilToHour(window.before + days * DAY_MS),
    ceilToHour(window.after + days * DAY_MS),
  ]);
  expect(actual).not.toBeNull();
  expect(allowed).toContain(actual);
}

/** Places an order with the raw input; `acceptBackorder` omitted stays omitted. */
export async function placeRaw(
  t: TestApp,
  token: string | undefined,
  input: {
    idempotencyKey?: string;
    acceptBackorder?: boolean;
    lines: { productId: string; quantity: number }[];
  },
) {
  return t.gql(
    PlaceOrderDocument,
    { input: { ...input, idempotencyKey: input.idempotencyKey ?? uniqueKey() } },
    token,
  );
}

/** The backorder the placed order's line `index` created (fails if the order was refused or has none). */
export function backorderOf(result: PlaceOrderResult, index = 0) {
  const backorder = placed(result).lines[index]?.backorder;
  if (!backorder) throw new Error(`line ${index} has no backorder: ${JSON.stringify(result)}`);
  return backorder;
}

export async function queueOf(t: TestApp, staff: string, sku: string, status?: BackorderStatus[]) {
  const data = await t.ok(EngineQueueDocument, { sku, first: 100, ...(status ? { status } : {}) }, staff);
  const connection = data.product!.backorders;
  return { totalCount: connection.totalCount, nodes: connection.edges.map((e) => e.node) };
}

export async function availabilityOf(t: TestApp, sku: string, quantity = 1) {
  const data = await t.ok(EngineAvailabilityDocument, { sku, quantity });
  return data.product!.availability;
}

export async function backorderById(t: TestApp, token: string, id: string) {
  return (await t.ok(EngineBackorderDocument, { id }, token)).backorder;
}

export async function orderById(t: TestApp, token: string, id: string) {
  const node = (await t.ok(EngineOrderNodeDocument, { id }, token)).node;
  if (node === null) return null;
  if (node.__typename !== 'Order') throw new Error(`not an order: ${JSON.stringify(node)}`);
  return node;
}

export async function viewerOrders(t: TestApp, token: string) {
  const data = await t.ok(EngineViewerOrdersDocument, { first: 100 }, token);
  return data.viewer!.orders.edges.map((e) => e.node);
}

export async function shipOrder(t: TestApp, staff: string, id: string) {
  return (await t.ok(EngineShipOrderDocument, { id }, staff)).shipOrder;
}

export async function cancelBackorder(t: TestApp, token: string, id: string) {
  return (await t.ok(EngineCancelBackorderDocument, { id }, token)).cancelBackorder;
}

export async function ledgerOf(t: TestApp, staff: string, sku: string) {
  const data = await t.ok(EngineLedgerDocument, { sku, first: 100 }, staff);
  return data.product!.stockMovements.edges.map((e) => e.node);
}

/** Everything a refused write must leave as it was: counters, queue, ledger and the customer's orders. */
export async function snapshot(t: TestApp, staff: string, skus: string[], customer?: string) {
  return {
    products: await Promise.all(
      skus.map(async (sku) => ({
        stock: await stockOf(t, staff, sku),
        queue: await queueOf(t, staff, sku),
        ledger: await ledgerOf(t, staff, sku),
      })),
    ),
    orders: customer ? await viewerOrders(t, customer) : null,
  };
}

/** The number behind an opaque global id (base64 of `Type:n`), for ledger references. */
export function localId(globalId: string): number {
  const [, id] = Buffer.from(globalId, 'base64').toString('utf8').split(':');
  return Number(id);
}

/** A well-formed global id of a thing that does not exist (ids are never this large in a test database). */
export function missingId(type: 'Order' | 'Backorder' | 'Product'): string {
  return Buffer.from(`${type}:987654321`).toString('base64');
}
