import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { ALERT_DEFAULTS, type AlertSettings } from '../../src/domain/alert-settings.ts';
import type { Actor } from '../../src/domain/types.ts';
import { type App, buildApp } from '../../src/edge/app/server.ts';
import { createAuthenticator } from '../../src/edge/auth/tokens.ts';
import type { DemoTokens } from '../../src/edge/http/demo.ts';
import type { AbuseLimits } from '../../src/edge/settings/abuse-limits.ts';
import {
  type EdgeConfig,
  edgeDefaults,
  OUTBOX_DEFAULTS,
  type OutboxConfig,
  TOKEN_DEFAULTS,
  type TokenConfig,
} from '../../src/edge/settings/defaults.ts';
import { type CostBudgets, DEFAULT_COST_BUDGETS } from '../../src/edge/settings/document-limits.ts';
import { type OpsConfig, opsDefaults } from '../../src/edge/settings/ops-settings.ts';
import { WEBHOOK_DEFAULTS, type WebhookSettings } from '../../src/outbox/webhook-settings.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256!';

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[];
}

export interface TestApp {
  app: App;
  database: TestDatabase;
  url: string;
  port: number;
  token(role: Actor['role'], sub?: string): Promise<string>;
  /** Sends a typed operation over real HTTP; `token` signs the request (omit for anonymous). */
  gql<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string): Promise<GraphQLResponse<R>>;
  /** Like gql, but fails the test on any GraphQL error and returns data. */
  ok<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string): Promise<R>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  poolMax?: number;
  statementTimeoutMs?: number;
  /** Production defaults (no GraphiQL, schema hints for staff only), as with NODE_ENV=production. */
  production?: boolean;
  /** Settings of the HTTP edge over the defaults of the mode. */
  edge?: Partial<EdgeConfig>;
  tokens?: Partial<TokenConfig>;
  /** Cost budgets per role over the defaults. */
  costBudgets?: Partial<CostBudgets>;
  /** Rate limits, connection caps and admission control (DEFAULT_ABUSE_LIMITS when omitted). */
  abuse?: AbuseLimits;
  /** Probes, metrics and shutdown over the defaults of the mode. */
  ops?: Partial<OpsConfig>;
  /** Webhook delivery settings over the defaults. */
  webhooks?: Partial<WebhookSettings>;
  /** How public events are made, over the defaults. */
  outbox?: Partial<OutboxConfig>;
  /** Back-in-stock request cap and retention over the defaults. */
  alerts?: Partial<AlertSettings>;
  /** As if the JWT secret was made for the run: offered to /demo and GraphiQL. */
  demoTokens?: DemoTokens;
  /** MAX_PER_CUSTOMER_DEFAULT: the per-customer cap of products without their own (unset: 10,000; 0: off). */
  maxPerCustomerDefault?: number;
  /** READ_CACHE_PRODUCTS: products whose availability inputs are held in memory (unset: 10,000; 0: off). */
  readCacheProducts?: number;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const production = options.production ?? false;
  const tokens = { ...TOKEN_DEFAULTS, ...options.tokens };
  const database = await createTestDatabase();
  const app = buildApp({
    databaseUrl: database.url,
    jwtSecret: TEST_SECRET,
    pool: {
      max: options.poolMax ?? 10,
      connectionTimeoutMs: 10_000,
      statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
    },
    mergeWindowMs: 50,
    production,
    edge: { ...edgeDefaults(production), ...options.edge },
    tokens,
    costBudgets: { ...DEFAULT_COST_BUDGETS, ...options.costBudgets },
    ...(options.abuse ? { abuse: options.abuse } : {}),
    ops: { ...opsDefaults(production), ...options.ops },
    webhooks: { ...WEBHOOK_DEFAULTS, ...options.webhooks },
    outbox: { ...OUTBOX_DEFAULTS, ...options.outbox },
    alerts: { ...ALERT_DEFAULTS, ...options.alerts },
    ...(options.demoTokens ? { demoTokens: options.demoTokens } : {}),
    ...(options.maxPerCustomerDefault !== undefined
      ? { maxPerCustomerDefault: options.maxPerCustomerDefault }
      : {}),
    ...(options.readCacheProducts !== undefined ? { readCacheProducts: options.readCacheProducts } : {}),
  });
  const { url, port } = await app.start(0, '127.0.0.1');
  const auth = createAuthenticator(TEST_SECRET, tokens);

  async function gql<R, V>(document: TypedDocumentNode<R, V>, variables: V, token?: string) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await res.json()) as GraphQLResponse<R>;
    return { ...body, status: res.status };
  }

  return {
    app,
    database,
    url,
    port,
    token: (role, sub) => auth.sign({ id: sub ?? `${role}-1`, role }),
    gql,
    async ok(document, variables, token) {
      const res = await gql(document, variables, token);
      if (res.errors?.length || !res.data) {
        throw new Error(`GraphQL errors: ${JSON.stringify(res.errors)}`);
      }
      return res.data;
    },
    async stop() {
      await app.stop();
      await database.drop();
    },
  };
}

/**
 * A second instance of the service on the same database as `t` (its own pool, listener and hubs): what one
 * instance changes, the other's subscribers must hear. Stopped by the caller.
 */
export async function startSecondInstance(
  t: TestApp,
  options: { statementTimeoutMs?: number } = {},
): Promise<{ app: App; port: number }> {
  const app = buildApp({
    databaseUrl: t.database.url,
    jwtSecret: TEST_SECRET,
    pool: { max: 5, connectionTimeoutMs: 10_000, statementTimeoutMs: options.statementTimeoutMs ?? 30_000 },
    mergeWindowMs: 50,
    production: false,
  });
  return { app, port: (await app.start(0, '127.0.0.1')).port };
}
