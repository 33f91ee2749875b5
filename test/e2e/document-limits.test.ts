import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getIntrospectionQuery, Lexer, print, Source, TokenKind } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogDocument,
  ProductAvailabilityDocument,
  ReceiveStockDocument,
  StockOfDocument,
  WatchAvailabilityDocument,
} from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createProduct, receive } from '../helpers/fixtures.ts';
import { connect, once, subscribe } from '../helpers/live.ts';

const GRAPHQL_RESPONSE = 'application/graphql-response+json';
const JSON_ONLY = 'application/json';

interface Answer {
  status: number;
  text: string;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  } | null;
}

let t: TestApp;
let staff: string;
let customer: string;

beforeAll(async () => {
  t = await startTestApp();
  staff = await t.token('staff');
  customer = await t.token('customer', 'limits-1');
});
afterAll(() => t?.stop());

async function post(
  app: TestApp,
  payload: { query: string; variables?: unknown; operationName?: string },
  options: { accept?: string; token?: string } = {},
): Promise<Answer> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: options.accept ?? GRAPHQL_RESPONSE,
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify(payload),
  });
  const text = await res.text();
  let body: Answer['body'] = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, text, body };
}

/** One refusal: BAD_USER_INPUT naming the limit, its value and bound, and no data at all. */
function expectRefusal(answer: Answer, limit: string, value: number, bound: number) {
  expect(answer.body).not.toHaveProperty('data');
  const refusal = answer.body?.errors?.find((e) => e.extensions?.limit === limit);
  expect(refusal, answer.text.slice(0, 300)).toBeDefined();
  expect(refusal!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit, value, bound });
  expect(refusal!.message).toContain(String(value));
  expect(refusal!.message).toContain(String(bound));
}

/** A selection `levels` fields deep, every field real, so that only its depth is wrong. */
function deepQuery(levels: number): string {
  // products > edges > node (3 levels), then pairs of inbound > product, then the leaf.
  const pairs = Math.floor((levels - 4) / 2);
  let selection = (levels - 4) % 2 === 1 ? 'inbound { id }' : 'id';
  for (let i = 0; i < pairs; i++) selection = `inbound { product { ${selection} } }`;
  return `{ products(first: 1) { edges { node { ${selection} } } } }`;
}

const CATALOG_THRICE = `query Thrice($first: Int!) {
  a: products(first: $first) { ...Page }
  b: products(first: $first) { ...Page }
  c: products(first: $first) { ...Page }
}
fragment Page on QueryProductsConnection {
  edges { cursor node { id sku name availability { status quantityAvailable } } }
  pageInfo { hasNextPage endCursor }
}`;

/** Exactly 1,000 tokens, in a document graphql-js validates quickly. */
const THOUSAND_TOKENS = `{ products(first: 1) { edges { node { backorders(status: [${'WAITING '.repeat(974)}]) { totalCount } } } } }`;

function tokensOf(source: string): number {
  const lexer = new Lexer(new Source(source));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

const refusals: [string, string, number, number][] = [
  ['depth', deepQuery(13), 13, 12],
  ['aliases', `{ ${Array.from({ length: 31 }, (_, i) => `t${i}: __typename`).join(' ')} }`, 31, 30],
  ['tokens', `{ ${'__typename '.repeat(1001)}}`, 1003, 1000],
  ['directives', `{ ${'__typename @skip(if: false) @include(if: true) '.repeat(26)}}`, 52, 50],
];

describe('document limits: each refusal names the limit, the value and the bound', () => {
  it('the documents at the limits are answered', async () => {
    expect(tokensOf(THOUSAND_TOKENS)).toBe(1000);
    for (const query of [
      deepQuery(12),
      `{ ${Array.from({ length: 30 }, (_, i) => `t${i}: __typename`).join(' ')} }`,
      // A plain __typename is not an alias, however often it is asked for.
      `{ ${'__typename '.repeat(200)}}`,
      THOUSAND_TOKENS,
      `{ ${'__typename @skip(if: false) @include(if: true) '.repeat(25)}}`,
    ]) {
      const answer = await post(t, { query }, { token: staff });
      expect(answer.status, answer.text.slice(0, 300)).toBe(200);
      expect(answer.body?.errors).toBeUndefined();
    }
  });

  it.each(refusals)(
    '%s: HTTP 400 for application/graphql-response+json',
    async (limit, query, value, bound) => {
      const answer = await post(t, { query }, { accept: GRAPHQL_RESPONSE, token: staff });
      expect(answer.status).toBe(400);
      expectRefusal(answer, limit, value, bound);
    },
  );

  it.each(refusals)(
    '%s: HTTP 200 for a client that accepts only application/json',
    async (limit, query, value, bound) => {
      const answer = await post(t, { query }, { accept: JSON_ONLY, token: staff });
      expect(answer.status).toBe(200);
      expectRefusal(answer, limit, value, bound);
    },
  );

  it.each([
    ['storefront', 'Catalog', 'anonymous'],
    ['customer', 'MyOrders', 'customer'],
    ['staff', 'OrdersToShip', 'staff'],
  ])('the contract file %s, sent whole, runs %s', async (file, operationName, role) => {
    const query = readFileSync(path.resolve(import.meta.dirname, `../operations/${file}.graphql`), 'utf8');
    const token = role === 'anonymous' ? undefined : role === 'staff' ? staff : customer;
    const answer = await post(t, { query, operationName, variables: { first: 100 } }, { token });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(answer.body?.errors).toBeUndefined();
  });

  it("graphql-js's introspection query is within every limit", async () => {
    const answer = await post(t, { query: getIntrospectionQuery() });
    expect(answer.status).toBe(200);
    expect(answer.body?.errors).toBeUndefined();
  });
});

describe('cost, priced for each execution from its variables and its caller', () => {
  it('the same document: cheap, over the budget, cheap again (HTTP)', async () => {
    for (const [first, refused] of [
      [1, false],
      [100, true],
      [1, false],
      [100, true],
    ] as const) {
      const answer = await post(t, { query: CATALOG_THRICE, variables: { first } });
      if (refused) {
        expect(answer.status).toBe(400);
        // Three pages of 100: 3 × (1 + 100 × 12).
        expectRefusal(answer, 'cost', 3603, 3000);
        expect(answer.body?.errors?.[0]?.message).toMatch(/anonymous/);
      } else {
        expect(answer.status).toBe(200);
        expect(answer.body?.errors).toBeUndefined();
        expect(answer.body?.data).toHaveProperty('a.edges');
      }
    }
  });

  it('the same document costs what the caller may spend: refused to anonymous, answered to a customer', async () => {
    const answer = await post(t, { query: CATALOG_THRICE, variables: { first: 100 } }, { token: customer });
    expect(answer.status).toBe(200);
    expect(answer.body?.errors).toBeUndefined();
  });

  it('every contract page at its largest is answered to its role', async () => {
    expect((await t.gql(CatalogDocument, { first: 100 })).errors).toBeUndefined();
    const page = `query { viewer { orders(first: 100) { edges { node { id lines { quantity backorder { id estimatedAvailableAt } } } } } } }`;
    expect((await post(t, { query: page }, { token: customer })).body?.errors).toBeUndefined();
  });

  it('the issue: 30 aliases of a customer’s 100 orders with their lines is refused before it runs', async () => {
    const orders = Array.from(
      { length: 30 },
      (_, i) =>
        `o${i}: orders(first: 100) { edges { node { lines { product { sku } backorder { queuePosition estimatedAvailableAt } } } } }`,
    ).join(' ');
    const answer = await post(t, { query: `{ viewer { ${orders} } }` }, { token: customer });
    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'cost' });
  });
});

describe('cost refused before anything runs, with budgets set low', () => {
  let low: TestApp;
  let lowStaff: string;

  beforeAll(async () => {
    low = await startTestApp({ costBudgets: { anonymous: 5, staff: 1000 } });
    lowStaff = await low.token('staff');
  });
  afterAll(() => low?.stop());

  it('a receipt whose allocations could pass the budget writes nothing; the same one, smaller, runs', async () => {
    const { id, sku } = await createProduct(low, lowStaff);
    const mutation = print(ReceiveStockDocument);
    const small = await post(
      low,
      { query: mutation, variables: { input: { productId: id, quantity: 10 } } },
      { token: lowStaff },
    );
    expect(small.body?.errors).toBeUndefined();
    const large = await post(
      low,
      { query: mutation, variables: { input: { productId: id, quantity: 1000 } } },
      { token: lowStaff },
    );
    // 9 + 5 per unit received: every unit may serve one backorder, and each allocation costs 5.
    expectRefusal(large, 'cost', 5009, 1000);
    const stock = await low.ok(StockOfDocument, { sku }, lowStaff);
    expect(stock.product?.stock.onHand).toBe(10);
  });

  it('a subscription over the budget gets an error over Server-Sent Events, and no events', async () => {
    const { id } = await createProduct(low, lowStaff);
    const res = await fetch(low.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: print(WatchAvailabilityDocument), variables: { productId: id } }),
    });
    const text = await res.text();
    expect(res.status).toBeLessThan(500);
    expect(text).toContain('BAD_USER_INPUT');
    expect(text).toContain('over the budget of 5');
    expect(text).not.toContain('"availability"');
  });

  it('a subscription over the budget gets an error message over WebSocket; the socket goes on', async () => {
    const { id } = await createProduct(low, lowStaff);
    const client = connect(low.port);
    try {
      const refused = await once(client, {
        query: print(WatchAvailabilityDocument),
        variables: { productId: id },
      });
      expect(refused.kind).toBe('error');
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        limit: 'cost',
        bound: 5,
      });
      const cheap = await once(client, { query: '{ __typename }' });
      expect(cheap).toMatchObject({ kind: 'next', data: { __typename: 'Query' } });
    } finally {
      await client.dispose();
    }
  });
});

describe('any document, however deep, long or nested, is answered below 500', () => {
  const hostile: [string, string][] = [
    ['10,000 nested selections', `{ ${'a { '.repeat(10_000)}b${' }'.repeat(10_000)} }`],
    ['10,000 nested list literals', `{ node(id: ${'['.repeat(10_000)}1${']'.repeat(10_000)}) { id } }`],
    ['10,000 nested object literals', `{ node(id: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}) { id } }`],
    [
      '400 nested list literals (within the tokens)',
      `{ node(id: ${'['.repeat(400)}1${']'.repeat(400)}) { id } }`,
    ],
    ['200,000 tokens', `{ ${'__typename '.repeat(200_000)}}`],
    ['an unterminated document', `{ ${'a { '.repeat(5000)}`],
  ];
  it.each(hostile)('%s', async (_, query) => {
    const answer = await post(t, { query });
    expect(answer.status).toBeLessThan(500);
    expect(answer.body?.errors?.length).toBeGreaterThan(0);
    expect(answer.body).not.toHaveProperty('data');
  });

  it('variables nested 100,000 deep are refused as input', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: GRAPHQL_RESPONSE },
      body: `{"query":"query($s: [BackorderStatus!]) { products(first: 1) { edges { node { backorders(status: $s) { totalCount } } } } }","variables":{"s":${deep}}}`,
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Answer['body'];
    expect(body?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('strings holding a NUL character', () => {
  it('in the variables: refused, nothing written', async () => {
    const sku = `NUL-${process.pid}`;
    const answer = await post(
      t,
      {
        query: 'mutation($input: CreateProductInput!) { createProduct(input: $input) { __typename } }',
        variables: { input: { sku, name: 'bad\u0000name' } },
      },
      { token: staff },
    );
    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(answer.body?.errors?.[0]?.message).toMatch(/NUL/);
    expect((await t.ok(ProductAvailabilityDocument, { sku })).product).toBeNull();
  });

  it('in a literal of the document: refused', async () => {
    const answer = await post(t, { query: '{ product(sku: "a\\u0000b") { id } }' });
    expect(answer.status).toBe(400);
    expect(answer.body?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('error messages repeat at most 100 characters of the input', () => {
  const long = 'x'.repeat(200_000);
  const echoes: [string, { query: string; variables?: unknown }][] = [
    ['an id of 200,000 characters', { query: `{ node(id: "${long}") { id } }` }],
    [
      'the same id in 4 aliases',
      { query: `{ ${[0, 1, 2, 3].map((i) => `n${i}: node(id: "${long}") { id }`).join(' ')} }` },
    ],
    [
      'an id in the variables',
      { query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id: long } },
    ],
    ['an unknown field', { query: `{ ${long} }` }],
    ['a bad enum value', { query: `{ orders(status: ${long}) { totalCount } }` }],
    [
      'a value of the wrong type',
      {
        query: 'query($n: Int!) { products(first: $n) { pageInfo { hasNextPage } } }',
        variables: { n: long },
      },
    ],
    [
      'a long list literal',
      { query: `{ node(id: [${Array.from({ length: 300 }, (_, i) => i).join(', ')}]) { id } }` },
    ],
    ['a syntax error', { query: `{ a(b: "${long}) }` }],
    ['an unknown sku', { query: `{ product(sku: "${long}") { id } }` }],
  ];
  it.each(echoes)('%s', async (_, payload) => {
    const answer = await post(t, payload, { token: staff });
    expect(answer.status).toBeLessThan(500);
    for (const error of answer.body?.errors ?? []) {
      expect(error.message.length).toBeLessThanOrEqual(101);
      expect(error.message).not.toContain('x'.repeat(41));
      expect(error.message).not.toMatch(/(\d+, ){30}/);
    }
    expect(answer.text).not.toContain('x'.repeat(101));
  });
});

describe('over WebSocket, a refused or failing operation ends alone', () => {
  it('with two subscriptions on the socket, every kind of refusal gets an error message and both go on', async () => {
    const { id, sku } = await createProduct(t, staff);
    await receive(t, staff, id, 5);
    const client = connect(t.port);
    const closes: number[] = [];
    client.on('closed', (event) => closes.push((event as { code: number }).code));
    try {
      const first = subscribe(client, WatchAvailabilityDocument, { productId: id });
      const second = subscribe(client, WatchAvailabilityDocument, { productId: id });
      await first.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 5);
      await second.until((d) => d.productAvailabilityChanged.availability.quantityAvailable === 5);

      const operations: [string, { query: string; variables?: Record<string, unknown> }, string][] = [
        ['depth', { query: deepQuery(13) }, 'depth'],
        ['aliases', { query: refusals[1]![1] }, 'aliases'],
        ['tokens', { query: refusals[2]![1] }, 'tokens'],
        ['directives', { query: refusals[3]![1] }, 'directives'],
        ['very deep', { query: `{ ${'a { '.repeat(10_000)}b${' }'.repeat(10_000)} }` }, 'tokens'],
        ['cost, over', { query: CATALOG_THRICE, variables: { first: 100 } }, 'cost'],
      ];
      for (const [name, payload, limit] of operations) {
        const outcome = await once(client, payload);
        expect(outcome.kind, name).toBe('error');
        expect(outcome.errors?.[0]?.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', limit });
        expect(outcome.errors?.[0]?.extensions, name).not.toHaveProperty('http');
      }

      const parseError = await once(client, { query: '{ products(' });
      expect(parseError.kind).toBe('error');
      const nul = await once(client, {
        query: 'query($s: String!) { product(sku: $s) { id } }',
        variables: { s: '\u0000' },
      });
      expect(nul.kind).toBe('error');
      expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const unknown = await once(client, { query: `{ ${'y'.repeat(5000)} }` });
      expect(unknown.kind).toBe('error');
      expect(unknown.errors?.[0]?.message).not.toContain('y'.repeat(41));

      // The same document, cheap, over the budget, cheap again.
      for (const [first, kind] of [
        [1, 'next'],
        [100, 'error'],
        [1, 'next'],
      ] as const) {
        const outcome = await once(client, { query: CATALOG_THRICE, variables: { first } });
        expect(outcome.kind).toBe(kind);
        if (kind === 'error') expect(outcome.errors?.[0]?.message).toMatch(/3603.*3000/);
        else expect(outcome.errors).toBeUndefined();
      }

      // Both subscriptions are still live.
      const firstNext = first.next((d) => d.productAvailabilityChanged.availability.quantityAvailable === 12);
      const secondNext = second.next(
        (d) => d.productAvailabilityChanged.availability.quantityAvailable === 12,
      );
      await receive(t, staff, id, 7);
      await firstNext;
      await secondNext;
      expect(closes).toEqual([]);
      expect((await t.ok(StockOfDocument, { sku }, staff)).product?.stock.onHand).toBe(12);
      first.stop();
      second.stop();
    } finally {
      await client.dispose();
    }
  });

  it('a subscription that fails as it starts ends with an error message, the socket goes on', async () => {
    const client = connect(t.port, customer);
    try {
      const missing = await once(client, {
        query: 'subscription($id: ID!) { backorderUpdated(id: $id) { id } }',
        variables: { id: 'QmFja29yZGVyOjk5OTk5OTk=' },
      });
      expect(missing).toMatchObject({ kind: 'error', errors: [{ message: 'Backorder not found' }] });
      expect(await once(client, { query: '{ viewer { customerId } }' })).toMatchObject({
        kind: 'next',
        data: { viewer: { customerId: 'limits-1' } },
      });
    } finally {
      await client.dispose();
    }
  });
});
