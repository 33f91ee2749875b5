import { request } from 'node:http';
import { getIntrospectionQuery } from 'graphql';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewerDocument } from '../generated/graphql.ts';
import { startTestApp, TEST_SECRET, type TestApp } from '../helpers/app.ts';
import { createProduct } from '../helpers/fixtures.ts';

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.stop());

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return {
    status: res.status,
    body: (await res.json().catch(() => null)) as { errors?: { extensions?: { code?: string } }[] },
  };
}

const key = new TextEncoder().encode(TEST_SECRET);
const sign = (claims: Record<string, unknown>, exp = '1h', secret = key) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('c-1')
    .setExpirationTime(exp)
    .sign(secret);

describe('credentials that are present but not acceptable', () => {
  const cases: [string, () => Promise<string>][] = [
    [
      'forged (another secret)',
      () => sign({ role: 'staff' }, '1h', new TextEncoder().encode('x'.repeat(40))),
    ],
    ['expired', () => sign({ role: 'customer' }, '-1m')],
    [
      'unsigned (alg none)',
      async () =>
        `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
          '{"sub":"c-1","role":"staff"}',
        ).toString('base64url')}.`,
    ],
    ['with an unknown role', () => sign({ role: 'admin' })],
    ['without a sub', () => new SignJWT({ role: 'staff' }).setProtectedHeader({ alg: 'HS256' }).sign(key)],
    ['not a JWT at all', async () => 'garbage'],
  ];
  it.each(cases)('refuses a token %s with HTTP 401 UNAUTHENTICATED, never as anonymous', async (_, token) => {
    const res = await post(JSON.stringify({ query: '{ viewer { customerId } }' }), {
      authorization: `Bearer ${await token()}`,
    });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const res = await post(JSON.stringify({ query: '{ viewer { customerId } }' }), {
      authorization: 'Basic abc',
    });
    expect(res.status).toBe(401);
  });

  it('reads a good token into the viewer, and no token as anonymous', async () => {
    expect(await t.ok(ViewerDocument, {}, await t.token('customer', 'c-77'))).toEqual({
      viewer: { customerId: 'c-77' },
    });
    expect(await t.ok(ViewerDocument, {})).toEqual({ viewer: null });
  });
});

describe('request bounds', () => {
  it('answers a body over 1 MB with 413, declared or streamed', async () => {
    const big = JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` });
    expect((await post(big)).status).toBe(413);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        t.url,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      // No content-length: chunked, so only counting the bytes can tell.
      for (let i = 0; i < 12; i++) req.write('x'.repeat(100_000));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('answers malformed JSON with 400', async () => {
    expect((await post('{"query": ')).status).toBe(400);
  });

  it('refuses a document deeper than 12, but lets introspection through', async () => {
    const { id } = await createProduct(t, await t.token('staff'));
    let selection = 'id';
    for (let i = 0; i < 7; i++) selection = `product { inbound { product { ${selection} } } }`;
    const deep = await post(
      JSON.stringify({ query: `query { node(id: "${id}") { ... on InboundShipment { ${selection} } } }` }),
    );
    expect(deep.status).toBeLessThan(500);
    expect(deep.body.errors?.length).toBeGreaterThan(0);
    const introspection = await post(JSON.stringify({ query: getIntrospectionQuery() }));
    expect(introspection.status).toBe(200);
    expect(introspection.body.errors).toBeUndefined();
  });

  it('refuses more than 30 aliases', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: viewer { customerId }`).join(' ');
    const res = await post(JSON.stringify({ query: `{ ${aliases} }` }));
    expect(res.status).toBeLessThan(500);
    expect(res.body.errors?.length).toBeGreaterThan(0);
    const ok = await post(
      JSON.stringify({
        query: `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: viewer { customerId }`).join(' ')} }`,
      }),
    );
    expect(ok.body.errors).toBeUndefined();
  });
});

describe('GraphiQL', () => {
  it('is served from the service itself, with nothing loaded from a CDN', async () => {
    const res = await fetch(t.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('backorder-api');
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn\.jsdelivr)/);
  });
});
