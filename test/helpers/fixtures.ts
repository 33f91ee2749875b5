import { expect } from 'vitest';
import {
  AdjustStockDocument,
  CappedPlaceOrderDocument,
  type CappedPlaceOrderMutation,
  CreateProductDocument,
  type CreateProductInput,
  PlaceOrderDocument,
  type PlaceOrderMutation,
  ReceiveStockDocument,
  ScheduleInboundDocument,
  StockOfDocument,
} from '../generated/graphql.ts';
import type { TestApp } from './app.ts';

let skuCounter = 0;
export const uniqueSku = (prefix = 'SKU') => `${prefix}-${process.pid}-${++skuCounter}`;

/** Creates a product as staff and returns its global id and sku. */
export async function createProduct(
  t: TestApp,
  staff: string,
  input: Partial<CreateProductInput> = {},
): Promise<{ id: string; sku: string }> {
  const sku = input.sku ?? uniqueSku();
  const data = await t.ok(CreateProductDocument, { input: { name: `Product ${sku}`, ...input, sku } }, staff);
  if (data.createProduct.__typename !== 'CreateProductSuccess') {
    throw new Error(`createProduct failed: ${JSON.stringify(data.createProduct)}`);
  }
  return { id: data.createProduct.product.id, sku };
}

export async function receive(
  t: TestApp,
  staff: string,
  productId: string,
  quantity: number,
  inboundId?: string,
) {
  const data = await t.ok(ReceiveStockDocument, { input: { productId, quantity, inboundId } }, staff);
  if (data.receiveStock.__typename !== 'ReceiveStockSuccess') {
    throw new Error(`receiveStock failed: ${JSON.stringify(data.receiveStock)}`);
  }
  return data.receiveStock;
}

export async function adjust(t: TestApp, staff: string, productId: string, delta: number, reason = 'count') {
  return (await t.ok(AdjustStockDocument, { input: { productId, delta, reason } }, staff)).adjustStock;
}

export async function schedule(
  t: TestApp,
  staff: string,
  productId: string,
  quantity: number,
  expectedAt: Date,
) {
  const data = await t.ok(
    ScheduleInboundDocument,
    { input: { productId, quantity, expectedAt: expectedAt.toISOString() } },
    staff,
  );
  if (data.scheduleInbound.__typename !== 'ScheduleInboundSuccess') throw new Error('scheduleInbound failed');
  return data.scheduleInbound.inbound;
}

export async function stockOf(t: TestApp, staff: string, sku: string) {
  const data = await t.ok(StockOfDocument, { sku }, staff);
  return { ...data.product!.stock, ...data.product!.availability };
}

let keyCounter = 0;
export const uniqueKey = () => `key-${process.pid}-${++keyCounter}`;

export type PlaceOrderResult = PlaceOrderMutation['placeOrder'];

export async function order(
  t: TestApp,
  customer: string,
  lines: { productId: string; quantity: number }[],
  options: { acceptBackorder?: boolean; idempotencyKey?: string } = {},
): Promise<PlaceOrderResult> {
  const data = await t.ok(PlaceOrderDocument, placeOrderInput(lines, options), customer);
  return data.placeOrder;
}

/** A placeOrder input: backorders accepted and a fresh idempotency key unless told. */
function placeOrderInput(
  lines: { productId: string; quantity: number }[],
  options: { acceptBackorder?: boolean; idempotencyKey?: string },
) {
  return {
    input: {
      idempotencyKey: options.idempotencyKey ?? uniqueKey(),
      acceptBackorder: options.acceptBackorder ?? true,
      lines,
    },
  };
}

export function placed(result: PlaceOrderResult) {
  if (result.__typename !== 'PlaceOrderSuccess') throw new Error(`order refused: ${JSON.stringify(result)}`);
  return result.order;
}

export function expectCode(res: { errors?: { extensions?: Record<string, unknown> }[] }, code: string) {
  expect(res.errors?.map((e) => e.extensions?.code)).toContain(code);
}

/** Places an order (backorders accepted unless told) and answers its result as it is, a refusal included. */
export async function cappedOrder(
  app: TestApp,
  token: string,
  lines: { productId: string; quantity: number }[],
  options: { acceptBackorder?: boolean; idempotencyKey?: string } = {},
): Promise<CappedPlaceOrderMutation['placeOrder']> {
  const data = await app.ok(CappedPlaceOrderDocument, placeOrderInput(lines, options), token);
  return data.placeOrder;
}
