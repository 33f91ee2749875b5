import type { Socket } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect } from 'vitest';
import { TEST_SECRET } from '../helpers/app.ts';
import {
  type Case,
  type Expected,
  type Fixtures,
  hostileTable,
  JSON_ONLY,
  mutation,
  outOfBounds,
  overWs,
  post,
  refusal,
  type Send,
  ws,
} from '../helpers/hostile.ts';

/**
 * Hostile input, one row per case: what is sent, by whom, to which app, and what it must get. Every row
 * also gets an answer below 500, of at most 16 KB unless it says otherwise, repeating no 101 characters of
 * what was sent, logs no error, and leaves the database exactly as it was (test/helpers/hostile.ts).
 * Adding a case is one row; a new kind of app is one entry of `apps`.
 */
const SHOP = 'https://shop.example';
const EVIL = 'https://evil.example';
const apps = {
  dev: {},
  prod: { production: true, edge: { corsOrigins: [SHOP], requestTimeoutMs: 1500, headersTimeoutMs: 1000 } },
  lowCost: { costBudgets: { customer: 1000, staff: 1000 } },
};
type App = keyof typeof apps;

/* ---------- documents ---------- */

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A selection `levels` deep, every field real, so that only its depth is wrong. */
function deep(levels: number): string {
  const pairs = Math.floor((levels - 4) / 2);
  let selection = (levels - 4) % 2 === 1 ? 'inbound { id }' : 'id';
  for (let i = 0; i < pairs; i++) selection = `inbound { product { ${selection} } }`;
  return `{ products(first: 1) { edges { node { ${selection} } } } }`;
}
const ALIASES_31 = `{ ${range(31)
  .map((i) => `p${i}: product(sku: "x") { id }`)
  .join(' ')} }`;
const TYPENAME_ALIASES_31 = `{ ${range(31)
  .map((i) => `t${i}: __typename`)
  .join(' ')} }`;
const TOKENS_1001 = `{ ${'__typename '.repeat(1001)}}`;
const DIRECTIVES_51 = `{ ${'__typename @skip(if: false) '.repeat(51)}}`;
const NESTED_10K = `{ ${'a { '.repeat(10_000)}b${' }'.repeat(10_000)} }`;
/** Three catalogue pages: 3 × (1 + 100 × 12) = 3,603 at `first: 100`, over the anonymous budget. */
const CATALOG_THRICE = `query Thrice($first: Int!) {
  a: products(first: $first) { ...Page }
  b: products(first: $first) { ...Page }
  c: products(first: $first) { ...Page }
}
fragment Page on QueryProductsConnection {
  edges { cursor node { id sku name availability { status quantityAvailable } } }
  pageInfo { hasNextPage endCursor }
}`;
/** The issue's request: 30 copies of a customer's 100 orders with their lines, backorders and ETAs. */
const ORDERS_30_ALIASES = `{ viewer { ${range(30)
  .map(
    (i) =>
      `o${i}: orders(first: 100) { edges { node { lines { product { sku } backorder { queuePosition estimatedAvailableAt } } } } }`,
  )
  .join(' ')} } }`;
const BIG_ID = 'x'.repeat(900_000);
const NODE_30_ALIASES = `query ($id: ID!) { ${range(30)
  .map((i) => `n${i}: node(id: $id) { id }`)
  .join(' ')} }`;
const MY_ORDERS = '{ viewer { orders(first: 100) { edges { node { id lines { quantity } } } } } }';
const INTROSPECTION = '{ __schema { types { name fields { name } } } }';
const MISSPELT = '{ prodct(sku: "x") { id } }';

/* ---------- mutations that would write, were they let through ---------- */

const PLACE_ORDER = mutation('placeOrder', 'PlaceOrderInput');
const RECEIVE = mutation('receiveStock', 'ReceiveStockInput');
const SCHEDULE = mutation('scheduleInbound', 'ScheduleInboundInput');
const UPDATE_INBOUND = mutation('updateInbound', 'UpdateInboundInput');
const ADJUST = mutation('adjustStock', 'AdjustStockInput');
const CREATE = mutation('createProduct', 'CreateProductInput');
const UPDATE = mutation('updateProduct', 'UpdateProductInput');
const RECEIVE_ALLOCATIONS =
  'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { ... on ReceiveStockSuccess { allocations { quantity } } } }';
const CREATE_LITERAL =
  'mutation { createProduct(input: { sku: "HOSTILE-1", name: "Sneaky" }) { __typename } }';

type Vars = (f: Fixtures) => Record<string, unknown>;
const lines =
  (n: number, quantity = 1) =>
  (f: Fixtures) =>
    range(n).map(() => ({ productId: f.productId, quantity }));
const placeOrder =
  (input: Record<string, unknown>, orderLines = lines(1)): Vars =>
  (f) => ({
    input: { idempotencyKey: 'hostile-order', acceptBackorder: true, lines: orderLines(f), ...input },
  });
const receive =
  (quantity: number): Vars =>
  (f) => ({ input: { productId: f.productId, quantity } });
const inAWeek = () => new Date(Date.now() + 7 * 86_400_000).toISOString();
const scheduleIn =
  (quantity: number): Vars =>
  (f) => ({
    input: { productId: f.productId, quantity, expectedAt: inAWeek() },
  });
const updateInbound =
  (quantity: number): Vars =>
  (f) => ({ input: { id: f.inboundId, quantity } });
const adjust =
  (delta: number, reason = 'count'): Vars =>
  (f) => ({ input: { productId: f.productId, delta, reason } });
const create = (input: Record<string, unknown>) => ({
  input: { sku: 'HOSTILE-1', name: 'Sneaky', ...input },
});
const update =
  (input: Record<string, unknown>): Vars =>
  (f) => ({ input: { id: f.productId, ...input } });

/* ---------- tokens ---------- */

const now = () => Math.floor(Date.now() / 1000);
const DAY = 86_400;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const signed =
  (claims: Record<string, unknown>, secret = TEST_SECRET) =>
  () =>
    new SignJWT({ role: 'customer', sub: 'hostile-customer', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(secret));
const badTokens: [string, () => Promise<string>, RegExp][] = [
  ['without exp', signed({ iat: now() }), /exp/],
  ['living 31 days', signed({ iat: now(), exp: now() + 31 * DAY }), /30 days/],
  ['issued an hour in the future', signed({ iat: now() + 3600, exp: now() + 7200 }), /future/],
  ['expired', signed({ iat: now() - 7200, exp: now() - 60 }), /expired/],
  ['whose sub holds a NUL character', signed({ sub: 'c-\u0000-1', exp: now() + 3600 }), /sub/],
  ['whose sub is a lone surrogate', signed({ sub: '\ud800', exp: now() + 3600 }), /sub/],
  [
    'forged (another secret)',
    signed({ iat: now(), exp: now() + 3600 }, `${TEST_SECRET}-forged`),
    /not valid/,
  ],
  [
    'unsigned (alg none)',
    async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'staff', sub: 'x', exp: now() + 3600 })}.`,
    /not valid/,
  ],
];

/** A customer's token that expires in about 2 s. */
const expiringIn2s = () => signed({ iat: now(), exp: now() + 2 })();

/* ---------- requests other than a JSON operation ---------- */

/** A POST of this body as JSON (or as the headers say). */
const json = (body: string, headers: Record<string, string> = {}): Send => ({
  http: { body, headers: { 'content-type': 'application/json', ...headers } },
});
const graphiql: Send = { http: { method: 'GET', accept: 'text/html' } };
const preflight = (origin: string): Send => ({
  http: {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  },
});

const HEAD = 'POST /graphql HTTP/1.1\r\nHost: x\r\n';

function multipart(query: string): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query }));
  form.set('map', '{}');
  return form;
}

/** A mutation, then padding: 1.2 MB in chunks, with no length declared. */
function chunked(socket: Socket): void {
  socket.write(`${HEAD}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const start = `{"query":${JSON.stringify(CREATE_LITERAL)},"pad":"`;
  socket.write(`${start.length.toString(16)}\r\n${start}\r\n`);
  const chunk = 'x'.repeat(100_000);
  for (let i = 0; i < 12; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  socket.write('2\r\n"}\r\n0\r\n\r\n');
}

function declared(socket: Socket): void {
  socket.write(`${HEAD}Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n`);
  for (let i = 0; i < 20; i++) socket.write('x'.repeat(100_000));
}

/* ---------- expectations ---------- */

const forbidden: Expected = {
  status: 200,
  code: 'FORBIDDEN',
  check: (a) => expect(a.body?.data ?? null).toBeNull(),
};
const unsupportedBody: Expected = { status: 415, code: 'BAD_USER_INPUT', message: /application\/json/ };
/** A document or its variables refused before anything runs. */
const badDocument: Expected = { status: 400, code: 'BAD_USER_INPUT', noData: true };
const costRefusal = (message: RegExp): Expected => ({ ...badDocument, message });
const noCors = { 'access-control-allow-origin': null, 'access-control-allow-credentials': null };
const noPage: Expected = {
  maxBytes: 1024,
  check: (a) => expect(a.headers?.get('content-type') ?? '').not.toContain('html'),
};

// biome-ignore format: a table reads best one row per line
const cases: Case<App>[] = [
  /* document limits: BAD_USER_INPUT naming limit, value and bound; 400, or 200 for a JSON-only client */
  { name: 'depth 13', who: 'staff', send: post(deep(13)), expect: refusal('depth', 13, 12) },
  { name: 'depth 13, JSON-only client', who: 'staff', send: post(deep(13), {}, JSON_ONLY), expect: refusal('depth', 13, 12, 200) },
  { name: '31 aliases', send: post(ALIASES_31), expect: refusal('aliases', 31, 30) },
  { name: '31 aliases, JSON-only client', send: post(ALIASES_31, {}, JSON_ONLY), expect: refusal('aliases', 31, 30, 200) },
  { name: '31 aliases of __typename', send: post(TYPENAME_ALIASES_31), expect: refusal('aliases', 31, 30) },
  { name: '1,001 tokens', send: post(TOKENS_1001), expect: refusal('tokens', 1003, 1000) },
  { name: '1,001 tokens, JSON-only client', send: post(TOKENS_1001, {}, JSON_ONLY), expect: refusal('tokens', 1003, 1000, 200) },
  { name: '51 directives', send: post(DIRECTIVES_51), expect: refusal('directives', 51, 50) },
  { name: '51 directives, JSON-only client', send: post(DIRECTIVES_51, {}, JSON_ONLY), expect: refusal('directives', 51, 50, 200) },
  { name: 'cost over the anonymous budget', send: post(CATALOG_THRICE, { first: 100 }), expect: refusal('cost', 3603, 3000) },
  { name: 'cost over the budget, JSON-only client', send: post(CATALOG_THRICE, { first: 100 }, JSON_ONLY), expect: refusal('cost', 3603, 3000, 200) },
  { name: "the issue's 30 aliases of viewer.orders(first: 100), customer, production", app: 'prod', who: 'customer', send: post(ORDERS_30_ALIASES), expect: { ...costRefusal(/over the budget of 100000 for customers/), maxBytes: 1024, maxMs: 2000 } },
  { name: 'cost over a low customer budget', app: 'lowCost', who: 'customer', send: post(MY_ORDERS), expect: costRefusal(/over the budget of 1000 for customers/) },
  { name: 'a receipt whose allocations could pass a low staff budget', app: 'lowCost', who: 'staff', send: post(RECEIVE_ALLOCATIONS, receive(1000)), expect: costRefusal(/over the budget of 1000 for staff/) },

  /* documents of any shape: an answer below 500 */
  { name: 'a 10,000-deep document', send: post(NESTED_10K), expect: { ...badDocument, message: /tokens, over the limit of 1000/ } },
  { name: '10,000 nested list literals', send: post(`{ node(id: ${'['.repeat(10_000)}1${']'.repeat(10_000)}) { id } }`), expect: badDocument },
  { name: '80,000 tokens', send: post(`{ ${'__typename '.repeat(80_000)}}`), expect: badDocument },
  { name: 'malformed JSON', who: 'staff', send: json('{"query": "mutation {'), expect: { status: 400 } },
  { name: 'JSON that is not a request', who: 'staff', send: json(JSON.stringify(CREATE_LITERAL)), expect: { status: 400 } },
  { name: 'a mutation over GET', who: 'staff', send: { http: { method: 'GET', search: { query: CREATE_LITERAL } } }, expect: { status: 405 } },
  { name: 'a body over 1 MB', who: 'staff', send: json(JSON.stringify({ query: CREATE_LITERAL, pad: 'x'.repeat(1_000_001) })), expect: { status: 413, message: /larger than 1000000 bytes/ } },

  /* NUL characters and long input */
  { name: 'NUL in a variable', who: 'staff', send: post(CREATE, create({ name: 'bad\u0000name' })), expect: { ...badDocument, message: /NUL/ } },
  { name: 'NUL in a variable name', who: 'staff', send: post(CREATE, { ...create({}), 'a\u0000': 1 }), expect: { ...badDocument, message: /NUL/ } },
  { name: 'NUL in a literal', who: 'staff', send: post(CREATE_LITERAL.replace('Sneaky', 'a\\u0000b')), expect: { ...badDocument, message: /NUL/ } },
  { name: 'NUL in an idempotency key', who: 'customer', send: post(PLACE_ORDER, placeOrder({ idempotencyKey: 'k\u0000' })), expect: { ...badDocument, message: /NUL/ } },
  { name: 'node(id:) with a 0.9 MB id', send: post(`{ node(id: "${BIG_ID}") { id } }`), expect: { status: 200, message: /^Invalid global ID: x{40}…$/, maxBytes: 1024 } },
  { name: 'node(id:) with a 0.9 MB id, 30 aliases', send: post(NODE_30_ALIASES, { id: BIG_ID }), expect: { status: 200, message: /^Invalid global ID: x{40}…$/, maxBytes: 8192 } },
  { name: 'an unknown field of 200,000 characters', send: post(`{ ${'y'.repeat(200_000)} }`), expect: { status: 400, maxBytes: 1024 } },
  { name: 'a sku of 900,000 characters', who: 'staff', send: post(CREATE, create({ sku: BIG_ID })), expect: outOfBounds(/^sku must be 1 to 64/) },

  /* the contract's bounds: refused by the field, nothing written */
  { name: 'order line quantity 0', who: 'customer', send: post(PLACE_ORDER, placeOrder({}, lines(1, 0))), expect: outOfBounds(/quantity must be between 1 and 100000, got 0$/) },
  { name: 'order line quantity 100,001', who: 'customer', send: post(PLACE_ORDER, placeOrder({}, lines(1, 100_001))), expect: outOfBounds(/got 100001$/) },
  { name: 'order line quantity 2^31', who: 'customer', send: post(PLACE_ORDER, placeOrder({}, lines(1, 2 ** 31))), expect: { ...badDocument, message: /Int cannot represent/ } },
  { name: 'an order of 0 lines', who: 'customer', send: post(PLACE_ORDER, placeOrder({}, lines(0))), expect: outOfBounds(/lines must be between 1 and 50, got 0$/) },
  { name: 'an order of 51 lines', who: 'customer', send: post(PLACE_ORDER, placeOrder({}, lines(51))), expect: outOfBounds(/lines must be between 1 and 50, got 51$/) },
  { name: 'an empty idempotencyKey', who: 'customer', send: post(PLACE_ORDER, placeOrder({ idempotencyKey: '' })), expect: outOfBounds(/idempotencyKey must be 1 to 255 characters long, got 0$/) },
  { name: 'an idempotencyKey of 256', who: 'customer', send: post(PLACE_ORDER, placeOrder({ idempotencyKey: 'k'.repeat(256) })), expect: outOfBounds(/got 256$/) },
  { name: 'receiveStock quantity 0', who: 'staff', send: post(RECEIVE, receive(0)), expect: outOfBounds(/quantity must be between 1 and 1000000, got 0$/) },
  { name: 'receiveStock quantity 1,000,001', who: 'staff', send: post(RECEIVE, receive(1_000_001)), expect: outOfBounds(/got 1000001$/) },
  { name: 'scheduleInbound quantity 0', who: 'staff', send: post(SCHEDULE, scheduleIn(0)), expect: outOfBounds(/quantity must be between 1 and 1000000, got 0$/) },
  { name: 'scheduleInbound quantity 1,000,001', who: 'staff', send: post(SCHEDULE, scheduleIn(1_000_001)), expect: outOfBounds(/got 1000001$/) },
  { name: 'updateInbound quantity 0', who: 'staff', send: post(UPDATE_INBOUND, updateInbound(0)), expect: outOfBounds(/quantity must be between 1 and 1000000, got 0$/) },
  { name: 'updateInbound quantity 1,000,001', who: 'staff', send: post(UPDATE_INBOUND, updateInbound(1_000_001)), expect: outOfBounds(/got 1000001$/) },
  { name: 'adjustStock delta 0', who: 'staff', send: post(ADJUST, adjust(0)), expect: outOfBounds(/delta must not be 0/) },
  { name: 'adjustStock delta 1,000,001', who: 'staff', send: post(ADJUST, adjust(1_000_001)), expect: outOfBounds(/between -1000000 and 1000000, got 1000001$/) },
  { name: 'adjustStock delta -1,000,001', who: 'staff', send: post(ADJUST, adjust(-1_000_001)), expect: outOfBounds(/got -1000001$/) },
  { name: 'an empty reason', who: 'staff', send: post(ADJUST, adjust(1, '')), expect: outOfBounds(/reason must be 1 to 500 characters long, got 0$/) },
  { name: 'a blank reason', who: 'staff', send: post(ADJUST, adjust(1, '   ')), expect: outOfBounds(/reason .*got 0$/) },
  { name: 'a reason of 501', who: 'staff', send: post(ADJUST, adjust(1, 'r'.repeat(501))), expect: outOfBounds(/got 501$/) },
  { name: 'backorderLimit -1', who: 'staff', send: post(CREATE, create({ backorderLimit: -1 })), expect: outOfBounds(/backorderLimit must be between 0 and 1000000, got -1$/) },
  { name: 'backorderLimit 1,000,001', who: 'staff', send: post(UPDATE, update({ backorderLimit: 1_000_001 })), expect: outOfBounds(/backorderLimit .*got 1000001$/) },
  { name: 'lowStockThreshold -1', who: 'staff', send: post(UPDATE, update({ lowStockThreshold: -1 })), expect: outOfBounds(/lowStockThreshold must be between 0 and 1000000, got -1$/) },
  { name: 'lowStockThreshold 1,000,001', who: 'staff', send: post(CREATE, create({ lowStockThreshold: 1_000_001 })), expect: outOfBounds(/lowStockThreshold .*got 1000001$/) },
  { name: 'restockLeadTimeDays -1', who: 'staff', send: post(CREATE, create({ restockLeadTimeDays: -1 })), expect: outOfBounds(/restockLeadTimeDays must be between 0 and 3650, got -1$/) },
  { name: 'restockLeadTimeDays 3,651', who: 'staff', send: post(UPDATE, update({ restockLeadTimeDays: 3651 })), expect: outOfBounds(/restockLeadTimeDays .*got 3651$/) },
  { name: 'maxPerCustomer 0', who: 'staff', send: post(CREATE, create({ maxPerCustomer: 0 })), expect: outOfBounds(/maxPerCustomer must be between 1 and 1000000, got 0$/) },
  { name: 'maxPerCustomer -1', who: 'staff', send: post(UPDATE, update({ maxPerCustomer: -1 })), expect: outOfBounds(/maxPerCustomer .*got -1$/) },
  { name: 'maxPerCustomer 1,000,001', who: 'staff', send: post(UPDATE, update({ maxPerCustomer: 1_000_001 })), expect: outOfBounds(/maxPerCustomer .*got 1000001$/) },
  { name: 'maxPerCustomer 2^31', who: 'staff', send: post(CREATE, create({ maxPerCustomer: 2 ** 31 })), expect: { ...badDocument, message: /Int cannot represent/ } },
  { name: 'a sku of 65', who: 'staff', send: post(CREATE, create({ sku: 'S'.repeat(65) })), expect: outOfBounds(/^sku must be 1 to 64/) },
  { name: 'an empty sku', who: 'staff', send: post(CREATE, create({ sku: '' })), expect: outOfBounds(/^sku must be 1 to 64/) },
  { name: 'a sku with a space', who: 'staff', send: post(CREATE, create({ sku: 'BAD SKU' })), expect: outOfBounds(/^sku must be/) },
  { name: 'a sku with a non-ASCII letter', who: 'staff', send: post(CREATE, create({ sku: 'ÜBER' })), expect: outOfBounds(/^sku must be/) },
  { name: 'a sku with a quote', who: 'staff', send: post(CREATE, create({ sku: "x'--" })), expect: outOfBounds(/^sku must be/) },
  { name: 'an empty name', who: 'staff', send: post(CREATE, create({ name: '' })), expect: outOfBounds(/name must be 1 to 200 characters long, got 0$/) },
  { name: 'a blank name', who: 'staff', send: post(UPDATE, update({ name: ' \t ' })), expect: outOfBounds(/name .*got 0$/) },
  { name: 'a name of 201', who: 'staff', send: post(CREATE, create({ name: 'n'.repeat(201) })), expect: outOfBounds(/name .*got 201$/) },
  { name: 'products(first: 0)', send: post('{ products(first: 0) { edges { cursor } } }'), expect: outOfBounds(/first must be between 1 and 100, got 0$/) },
  { name: 'products(first: 101)', send: post('{ products(first: 101) { edges { cursor } } }'), expect: outOfBounds(/first .*got 101$/) },
  { name: 'products(first: -1)', send: post('{ products(first: -1) { edges { cursor } } }'), expect: outOfBounds(/first .*got -1$/) },
  { name: 'products(last: 101)', send: post('{ products(last: 101) { edges { cursor } } }'), expect: outOfBounds(/last must be between 1 and 100, got 101$/) },
  { name: 'viewer.orders(first: 101)', who: 'customer', send: post('{ viewer { orders(first: 101) { edges { cursor } } } }'), expect: outOfBounds(/first .*got 101$/) },
  { name: 'orders(first: 0), staff', who: 'staff', send: post('{ orders(first: 0) { edges { cursor } } }'), expect: outOfBounds(/first .*got 0$/) },

  /* who is asking: a bad token is 401 over HTTP, 4403 over WebSocket; nothing runs */
  ...badTokens.flatMap(([name, token, message]): Case<App>[] => [
    { name: `a token ${name}`, who: token, send: post(PLACE_ORDER, placeOrder({})), expect: { status: 401, code: 'UNAUTHENTICATED', message } },
    { name: `a token ${name}, over WebSocket`, who: token, send: ws(PLACE_ORDER, placeOrder({})), expect: { close: 4403 } },
  ]),
  { name: 'an Authorization that is not a bearer token', send: { http: { body: { query: PLACE_ORDER, variables: placeOrder({}) }, headers: { authorization: 'Basic YTpi' } } }, expect: { status: 401, code: 'UNAUTHENTICATED', message: /Bearer/ } },
  { name: 'an operation after the token expired, over WebSocket', who: expiringIn2s, send: { ws: [{ query: PLACE_ORDER, variables: placeOrder({}) }], late: true }, expect: { close: 4403 } },

  /* the production surface */
  { name: 'GraphiQL in production, anonymous', app: 'prod', send: graphiql, expect: noPage },
  { name: 'GraphiQL in production, staff', app: 'prod', who: 'staff', send: graphiql, expect: noPage },
  { name: 'introspection in production, anonymous', app: 'prod', send: post(INTROSPECTION), expect: forbidden },
  { name: 'introspection in production, customer', app: 'prod', who: 'customer', send: post(INTROSPECTION), expect: forbidden },
  { name: 'introspection in production, staff', app: 'prod', who: 'staff', send: post(INTROSPECTION), expect: { status: 200, maxBytes: 200_000, check: (a) => expect(a.body?.data).toHaveProperty('__schema.types') } },
  { name: 'introspection in production over WebSocket, customer', app: 'prod', who: 'customer', send: ws(INTROSPECTION), expect: { code: 'FORBIDDEN' } },
  { name: 'a misspelt field in production, anonymous', app: 'prod', send: post(MISSPELT), expect: { status: 400, message: /^Cannot query field "prodct" on type "Query"\.$/ } },
  { name: 'a misspelt enum value in production, customer', app: 'prod', who: 'customer', send: post('{ orders(first: 1, status: SHIPED) { totalCount } }'), expect: { status: 400, message: /^Value "SHIPED" does not exist in "OrderStatus" enum\.$/ } },
  { name: 'a misspelt field in production, staff', app: 'prod', who: 'staff', send: post(MISSPELT), expect: { status: 400, message: /Did you mean "product"/ } },
  { name: 'a foreign origin asking with credentials (preflight)', app: 'prod', send: preflight(EVIL), expect: { status: 403, headers: noCors } },
  { name: 'a foreign origin sending a cookie', app: 'prod', send: json('{"query":"{ __typename }"}', { origin: EVIL, cookie: 'session=stolen' }), expect: { status: 200, headers: noCors } },
  { name: 'a foreign origin, default settings', send: preflight(EVIL), expect: { status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-credentials': null } } },
  { name: 'a form-encoded mutation', app: 'prod', who: 'staff', send: { http: { body: new URLSearchParams({ query: CREATE_LITERAL }) } }, expect: unsupportedBody },
  { name: 'a multipart mutation', app: 'prod', who: 'staff', send: { http: { body: () => multipart(CREATE_LITERAL) } }, expect: unsupportedBody },
  { name: 'a text/plain mutation', app: 'prod', who: 'staff', send: json(JSON.stringify({ query: CREATE_LITERAL }), { 'content-type': 'text/plain' }), expect: unsupportedBody },
  { name: 'a slow request body', app: 'prod', send: { raw: (s) => s.write(`${HEAD}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`) }, expect: { status: 408, maxMs: 4000 } },
  { name: 'slow headers', app: 'prod', send: { raw: (s) => s.write(HEAD) }, expect: { status: 408, maxMs: 4000 } },
  { name: 'an over-size chunked body over a raw socket', app: 'prod', send: { raw: chunked }, expect: { status: 413, message: /connection: close/i, cleanClose: true } },
  { name: 'an over-size declared body over a raw socket', app: 'prod', send: { raw: declared }, expect: { status: 413, message: /larger than 1000000 bytes/, cleanClose: true } },

  /* over WebSocket: a refused operation gets an error message alone; the socket and its subscription go on */
  { name: 'depth 13, over WebSocket', who: 'staff', send: ws(deep(13)), expect: overWs(refusal('depth', 13, 12)) },
  { name: '31 aliases, over WebSocket', send: ws(TYPENAME_ALIASES_31), expect: overWs(refusal('aliases', 31, 30)) },
  { name: '1,001 tokens, over WebSocket', send: ws(TOKENS_1001), expect: overWs(refusal('tokens', 1003, 1000)) },
  { name: '51 directives, over WebSocket', send: ws(DIRECTIVES_51), expect: overWs(refusal('directives', 51, 50)) },
  { name: 'a 10,000-deep document, over WebSocket', send: ws(NESTED_10K), expect: overWs(badDocument) },
  { name: 'cost over the budget, over WebSocket', send: ws(CATALOG_THRICE, { first: 100 }), expect: overWs(refusal('cost', 3603, 3000)) },
  { name: 'NUL in a variable, over WebSocket', who: 'staff', send: ws(CREATE, create({ name: 'a\u0000' })), expect: overWs({ ...badDocument, message: /NUL/ }) },
  { name: 'node(id:) with a 0.9 MB id, 30 aliases, over WebSocket', send: ws(NODE_30_ALIASES, { id: BIG_ID }), expect: { message: /^Invalid global ID: x{40}…$/, maxBytes: 8192, ends: 'next' } },
  { name: 'order line quantity 2^31, over WebSocket', who: 'customer', send: ws(PLACE_ORDER, placeOrder({}, lines(1, 2 ** 31))), expect: { code: 'BAD_USER_INPUT', message: /Int cannot represent/ } },
  { name: 'receiveStock quantity 0, over WebSocket', who: 'staff', send: ws(RECEIVE, receive(0)), expect: { code: 'BAD_USER_INPUT', message: /got 0$/ } },
  { name: 'a message that is not graphql-ws, over WebSocket', send: { ws: [], frame: JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query: 1 } }) }, expect: { close: 4400 } },
  { name: 'a message over 1 MB, over WebSocket', send: { ws: [], frame: JSON.stringify({ id: 'big', type: 'subscribe', payload: { query: '{ __typename }', pad: BIG_ID.repeat(2) } }) }, expect: { close: 1009 } },
];

describe('hostile input: each gets a clean answer and writes nothing', () => {
  hostileTable<App>(apps, cases);
});
