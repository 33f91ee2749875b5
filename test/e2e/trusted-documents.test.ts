import { type DocumentNode, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CappedPlaceOrderDocument,
  MyOrdersDocument,
  ProductAvailabilityDocument,
  ReceiveStockDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, receive } from '../helpers/fixtures.ts';

let t: TestApp;
let staff: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
});
afterAll(() => t?.stop());

/** The sha256 GraphQL Code Generator gave the document (its persisted-documents manifest). */
function hashOf(document: DocumentNode): string {
  const hash = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  if (!hash) throw new Error('the document has no hash: run npm run codegen');
  return hash.replace(/^sha256:/, '');
}

/** An operation sent by hash alone (no text), as a client of the trusted-document path sends it. */
async function byHash(document: DocumentNode, variables: Record<string, unknown>, token?: string) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      variables,
      extensions: { persistedQuery: { version: 1, sha256Hash: hashOf(document) } },
    }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string } }[];
    },
  };
}

describe('trusted documents: the contract and the storefront example by their hash', () => {
  it('answers a contract operation sent by hash exactly as sent by text', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 4);
    const byText = await t.gql(ProductAvailabilityDocument, { sku });
    const hashed = await byHash(ProductAvailabilityDocument, { sku });
    expect(hashed.status).toBe(200);
    expect(hashed.body.errors).toBeUndefined();
    // The manifest holds the document as codegen prints it (selections sorted): the same fields, another
    // order of keys. The time of the query differs too.
    const at = (data: unknown) =>
      (data as { product: { availability: { estimatedAvailableAt: string } } }).product.availability;
    const [a, b] = [at(hashed.body.data), at(byText.data)];
    expect(Date.parse(a.estimatedAvailableAt)).toBeGreaterThanOrEqual(Date.parse(b.estimatedAvailableAt));
    a.estimatedAvailableAt = b.estimatedAvailableAt;
    expect(hashed.body.data).toEqual(byText.data);
  });

  it('keeps authorization and cost: a staff mutation by hash is FORBIDDEN to a customer, MyOrders is viewer null to anonymous', async () => {
    const { id } = await createProduct(t, staff);
    const customer = await t.token('customer', 'trusted-1');
    const refused = await byHash(ReceiveStockDocument, { input: { productId: id, quantity: 1 } }, customer);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await byHash(MyOrdersDocument, { first: 100 })).body).toEqual({ data: { viewer: null } });
  });

  it("refuses a hash it does not know, and trusts none of the suite's own documents", async () => {
    const unknown = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } }),
    });
    const body = (await unknown.json()) as { data?: unknown; errors: { message: string }[] };
    expect(body.data).toBeUndefined();
    expect(body.errors[0]!.message).toBe('PersistedQueryNotFound');
    // Test-only operations share the manifest codegen writes, not the trust.
    const testOnly = await byHash(CappedPlaceOrderDocument, { input: { idempotencyKey: 'k', lines: [] } });
    expect(testOnly.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
    // The text of any document is still accepted.
    expect((await t.gql(MyOrdersDocument, { first: 1 })).data).toEqual({ viewer: null });
    expect(print(MyOrdersDocument)).toContain('query MyOrders');
  });
});
