import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { uniqueSku } from '../helpers/fixtures.ts';
import { rawExchange } from '../helpers/raw-http.ts';

/**
 * The service as it runs with NODE_ENV=production: no GraphiQL, the schema's shape for staff only, a CORS
 * allow-list, JSON bodies only and tight timeouts. Real HTTP, raw sockets and real WebSockets.
 */
const SHOP = 'https://shop.example';
let prod: TestApp;
let dev: TestApp;
let staff: string;
let customer: string;

beforeAll(async () => {
  [prod, dev] = await Promise.all([
    startTestApp({
      production: true,
      edge: { corsOrigins: [SHOP], requestTimeoutMs: 1500, headersTimeoutMs: 1000 },
    }),
    startTestApp(),
  ]);
  staff = await prod.token('staff');
  customer = await prod.token('customer');
});
afterAll(() => Promise.all([prod?.stop(), dev?.stop()]));

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  } | null;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
}

const bearer = (token?: string): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

/** One operation over graphql-ws: its result, or the errors it ended with. */
async function overSocket(
  app: TestApp,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: unknown; errors?: readonly { message: string; extensions?: { code?: string } }[] }> {
  const client = createClient({
    url: `ws://127.0.0.1:${app.port}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  try {
    return await new Promise((resolve, reject) => {
      let result: { data?: unknown; errors?: readonly { message: string }[] } = {};
      client.subscribe(
        { query, variables },
        {
          next: (value) => {
            result = value as typeof result;
          },
          error: (err) => (Array.isArray(err) ? resolve({ errors: err }) : reject(err)),
          complete: () => resolve(result),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

async function count(app: TestApp, table: 'product' | 'customer_order'): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(
    app.database.db,
  );
  return rows[0]!.n;
}

const INTROSPECTION = getIntrospectionQuery();
const TYPE_QUERY = '{ __type(name: "Product") { fields { name } } }';

describe('production: GraphiQL', () => {
  it('is not served, unless a setting turns it on', async () => {
    const res = await fetch(prod.url, { headers: { accept: 'text/html' } });
    expect(res.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(await res.text()).not.toContain('graphiql');
    const on = await startTestApp({ production: true, edge: { graphiql: true } });
    try {
      const page = await fetch(on.url, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(await page.text()).toContain('backorder-api');
    } finally {
      await on.stop();
    }
  });
});

describe('production: introspection is answered to staff only', () => {
  it.each([
    ['anonymous', undefined],
    ['a customer', 'customer'],
  ] as const)('refuses %s with FORBIDDEN, over HTTP and WebSocket', async (_, role) => {
    const token = role ? customer : undefined;
    for (const query of [INTROSPECTION, TYPE_QUERY]) {
      const res = await post(prod.url, { query }, bearer(token));
      expect(res.status).toBeLessThan(500);
      expect(res.body?.data ?? null).toBeNull();
      expect(res.body?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const ws = await overSocket(prod, token, query);
      expect(ws.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(ws.data ?? null).toBeNull();
    }
    // __typename is not the schema's shape
    expect((await post(prod.url, { query: '{ __typename }' }, bearer(token))).body).toEqual({
      data: { __typename: 'Query' },
    });
  });

  it('answers staff, with their token, over HTTP and WebSocket (the same document, per caller)', async () => {
    const res = await post(prod.url, { query: INTROSPECTION }, bearer(staff));
    expect(res.status).toBe(200);
    expect(res.body?.errors).toBeUndefined();
    const schema = res.body?.data?.__schema as { types: unknown[] };
    expect(schema.types.length).toBeGreaterThan(20);
    const ws = await overSocket(prod, staff, INTROSPECTION);
    expect(ws.errors).toBeUndefined();
    expect((ws.data as { __schema: { queryType: { name: string } } }).__schema.queryType.name).toBe('Query');
    // and straight after, the same document to a customer is still refused
    expect(
      (await post(prod.url, { query: INTROSPECTION }, bearer(customer))).body?.errors?.[0]?.extensions?.code,
    ).toBe('FORBIDDEN');
  });

  it('is answered to everyone in development, and in production when a setting turns it on', async () => {
    const res = await post(dev.url, { query: INTROSPECTION });
    expect(res.body?.errors).toBeUndefined();
    const open = await startTestApp({ production: true, edge: { introspection: true, suggestions: true } });
    try {
      expect((await post(open.url, { query: TYPE_QUERY })).body?.errors).toBeUndefined();
      expect(
        (await post(open.url, { query: '{ prodct(sku: "x") { id } }' })).body?.errors?.[0]?.message,
      ).toContain('Did you mean');
    } finally {
      await open.stop();
    }
  });
});

describe('production: "did you mean" suggestions are for staff only', () => {
  const misspelt = '{ prodct(sku: "x") { id } }';
  const badEnum = 'query ($s: OrderStatus) { orders(first: 1, status: $s) { totalCount } }';
  const badEnumLiteral = '{ orders(first: 1, status: SHIPED) { totalCount } }';

  it.each([
    ['anonymous', undefined],
    ['a customer', 'customer'],
  ] as const)('names no schema field or value to %s, over HTTP and WebSocket', async (_, role) => {
    const token = role ? customer : undefined;
    const field = await post(prod.url, { query: misspelt }, bearer(token));
    expect(field.status).toBeLessThan(500);
    expect(field.body?.errors?.[0]?.message).toBe('Cannot query field "prodct" on type "Query".');
    const value = await post(prod.url, { query: badEnum, variables: { s: 'SHIPED' } }, bearer(token));
    expect(value.body?.errors?.[0]?.message).toContain('"SHIPED"');
    expect(value.body?.errors?.[0]?.message).not.toMatch(/Did y|SHIPPED/);
    const literal = await post(prod.url, { query: badEnumLiteral }, bearer(token));
    expect(literal.body?.errors?.[0]?.message).toBe('Value "SHIPED" does not exist in "OrderStatus" enum.');
    const ws = await overSocket(prod, token, misspelt);
    expect(ws.errors?.[0]?.message).toBe('Cannot query field "prodct" on type "Query".');
    const wsValue = await overSocket(prod, token, badEnum, { s: 'SHIPED' });
    expect(wsValue.errors?.[0]?.message).toContain('"SHIPED"');
    expect(wsValue.errors?.[0]?.message).not.toMatch(/Did y|SHIPPED/);
  });

  it('keeps them for staff, and for everyone in development', async () => {
    for (const [app, token] of [
      [prod, staff],
      [dev, undefined],
    ] as const) {
      const field = await post(app.url, { query: misspelt }, bearer(token));
      expect(field.body?.errors?.[0]?.message).toContain('Did you mean "product"');
      const value = await post(app.url, { query: badEnumLiteral }, bearer(token));
      expect(value.body?.errors?.[0]?.message).toContain('Did you mean the enum value "SHIPPED"');
    }
    expect((await overSocket(prod, staff, misspelt)).errors?.[0]?.message).toContain(
      'Did you mean "product"',
    );
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });

  it('answers a preflight from a listed origin with that origin, credentials, and the two headers', async () => {
    const res = await preflight(prod.url, SHOP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('vary')).toContain('Origin');
  });

  it('never reflects an unlisted origin: its preflight is refused and its answers carry no CORS headers', async () => {
    const res = await preflight(prod.url, 'https://evil.example');
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await post(prod.url, { query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    expect(simple.headers.get('vary')).toContain('Origin');
    const listed = await post(prod.url, { query: '{ __typename }' }, { origin: SHOP });
    expect(listed.headers.get('access-control-allow-origin')).toBe(SHOP);
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('by default lets any origin call, never with credentials', async () => {
    const res = await preflight(dev.url, 'https://anywhere.example');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    const simple = await post(dev.url, { query: '{ __typename }' }, { origin: 'https://anywhere.example' });
    expect(simple.headers.get('access-control-allow-origin')).toBe('*');
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('only JSON bodies', () => {
  const mutation = (sku: string) =>
    `mutation { createProduct(input: { sku: "${sku}", name: "Sneaky" }) { __typename } }`;

  it('refuses form-encoded, multipart and text/plain POSTs with 415, and never runs their mutation', async () => {
    const before = await count(prod, 'product');
    const sku = uniqueSku('FORM');
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: mutation(sku) }));
    form.set('map', '{}');
    const attempts: [string, BodyInit, Record<string, string>][] = [
      ['form', new URLSearchParams({ query: mutation(sku) }), {}],
      ['multipart', form, {}],
      ['text/plain', JSON.stringify({ query: mutation(sku) }), { 'content-type': 'text/plain' }],
      ['graphql', mutation(sku), { 'content-type': 'application/graphql' }],
      ['no type', JSON.stringify({ query: mutation(sku) }), { 'content-type': '' }],
      [
        'json in latin1',
        JSON.stringify({ query: mutation(sku) }),
        { 'content-type': 'application/json; charset=latin1' },
      ],
    ];
    for (const [name, body, headers] of attempts) {
      const res = await fetch(prod.url, { method: 'POST', body, headers: { ...bearer(staff), ...headers } });
      expect(res.status, name).toBe(415);
      expect(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message).toContain(
        'application/json',
      );
    }
    expect(await count(prod, 'product')).toBe(before);
    // the same mutation as JSON does run
    const json = await post(prod.url, { query: mutation(sku) }, bearer(staff));
    expect(json.body?.data).toEqual({ createProduct: { __typename: 'CreateProductSuccess' } });
    expect(await count(prod, 'product')).toBe(before + 1);
  });

  it('accepts application/json with a utf-8 charset', async () => {
    const res = await post(
      prod.url,
      { query: '{ __typename }' },
      { 'content-type': 'application/json; charset=UTF-8' },
    );
    expect(res.status).toBe(200);
  });
});

describe('slow and over-size requests', () => {
  it('cuts a request body that trickles in, at the request timeout, with 408', async () => {
    const { text, ms } = await rawExchange(prod.port, (socket) => {
      socket.write(
        'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":',
      );
    });
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeGreaterThanOrEqual(1400);
    expect(ms).toBeLessThan(4000);
  });

  it('cuts headers that never finish', async () => {
    const { text, ms } = await rawExchange(prod.port, (socket) =>
      socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n'),
    );
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(ms).toBeLessThan(4000);
  });

  it('answers a chunked body over 1 MB with 413 and closes the connection cleanly, without a reset', async () => {
    for (let round = 0; round < 5; round++) {
      const { text, ended } = await rawExchange(prod.port, (socket) => {
        socket.write(
          'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
        );
        const chunk = 'x'.repeat(100_000);
        for (let i = 0; i < 12; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        socket.write('0\r\n\r\n');
      });
      expect(text).toMatch(/^HTTP\/1\.1 413/);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text).toContain('Request body is larger than 1000000 bytes');
      expect(ended).toBe('end');
    }
  });

  it('answers a declared length over 1 MB with 413 the same way, while the client is still sending', async () => {
    const { text, ended } = await rawExchange(prod.port, (socket) => {
      socket.write(
        'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n',
      );
      for (let i = 0; i < 20; i++) socket.write('x'.repeat(100_000));
    });
    expect(text).toMatch(/^HTTP\/1\.1 413/);
    expect(ended).toBe('end');
  });

  it('keeps WebSockets open past the request timeout', async () => {
    let closed = 0;
    const client = createClient({
      url: `ws://127.0.0.1:${prod.port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      on: { closed: () => closed++ },
    });
    const run = () =>
      new Promise((resolve, reject) => {
        client.subscribe({ query: '{ __typename }' }, { next: resolve, error: reject, complete: () => {} });
      });
    await run();
    await new Promise((r) => setTimeout(r, 2500));
    expect(await run()).toEqual({ data: { __typename: 'Query' } });
    expect(closed).toBe(0);
    await client.dispose();
  });
});
