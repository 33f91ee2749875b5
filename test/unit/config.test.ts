import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/edge/settings/config.ts';

describe('configuration', () => {
  it('makes a development secret when none is given outside production', () => {
    const config = loadConfig({});
    expect(config.jwtSecretGenerated).toBe(true);
    expect(config.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(config).toMatchObject({ port: 4000, seedDemo: true, databaseUrl: undefined, mergeWindowMs: 100 });
  });

  it('stops the start in production without a secret, or with a short one, naming the variable', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET is required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' })).toThrow(
      /JWT_SECRET is too short/,
    );
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) }).jwtSecretGenerated).toBe(false);
  });

  it('keeps GraphiQL, introspection and suggestions open in development, and closes them in production', () => {
    expect(loadConfig({}).edge).toEqual({
      graphiql: true,
      demo: true,
      introspection: true,
      suggestions: true,
      corsOrigins: null,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
    });
    const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) };
    expect(loadConfig(production).edge).toMatchObject({
      graphiql: false,
      demo: false,
      introspection: false,
      suggestions: false,
    });
    expect(
      loadConfig({ ...production, GRAPHIQL: 'true', INTROSPECTION: 'on', SUGGESTIONS: '1' }).edge,
    ).toMatchObject({ graphiql: true, introspection: true, suggestions: true });
    expect(loadConfig({ ...production, DEMO: 'true' }).edge.demo).toBe(true);
    expect(() => loadConfig({ INTROSPECTION: 'staff' })).toThrow(/INTROSPECTION must be true or false/);
  });

  it('reads the CORS allow-list as exact origins, any origin when unset or *', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).edge.corsOrigins).toBeNull();
    expect(
      loadConfig({ CORS_ORIGINS: 'https://shop.example, http://localhost:5173' }).edge.corsOrigins,
    ).toEqual(['https://shop.example', 'http://localhost:5173']);
    for (const bad of [
      'https://shop.example/',
      'shop.example',
      'https://shop.example/path',
      '*,https://a.example',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(
        /CORS_ORIGINS must be \* or a comma-separated list/,
      );
    }
  });

  it('reads the failed-authentication budget: 10 once another rate limit is on, off otherwise, 0 = off', () => {
    expect(loadConfig({}).abuse.rate.failedAuth).toBe(0);
    expect(loadConfig({ RATE_LIMIT_ANONYMOUS: '600' }).abuse.rate.failedAuth).toBe(10);
    expect(loadConfig({ RATE_LIMIT_CUSTOMER: '600' }).abuse.rate.failedAuth).toBe(10);
    expect(
      loadConfig({ RATE_LIMIT_ANONYMOUS: '600', RATE_LIMIT_FAILED_AUTH: '3' }).abuse.rate.failedAuth,
    ).toBe(3);
    expect(
      loadConfig({ RATE_LIMIT_ANONYMOUS: '600', RATE_LIMIT_FAILED_AUTH: '0' }).abuse.rate.failedAuth,
    ).toBe(0);
    expect(loadConfig({ RATE_LIMIT_FAILED_AUTH: '5' }).abuse.rate).toMatchObject({
      failedAuth: 5,
      anonymous: 0,
      customer: 0,
    });
    for (const bad of ['-1', 'ten', '1.5']) {
      expect(() => loadConfig({ RATE_LIMIT_FAILED_AUTH: bad })).toThrow(/RATE_LIMIT_FAILED_AUTH/);
    }
  });

  it('reads the per-address connection cap: off (0) by default, refused behind trusted proxies', () => {
    expect(loadConfig({}).abuse.connections.connectionsPerAddress).toBe(0);
    expect(loadConfig({ MAX_CONNECTIONS_PER_ADDRESS: '64' }).abuse.connections).toMatchObject({
      connectionsPerAddress: 64,
      openConnections: 10_000,
    });
    expect(
      loadConfig({ MAX_CONNECTIONS_PER_ADDRESS: '0', TRUST_PROXY_HOPS: '1' }).abuse.connections,
    ).toMatchObject({ connectionsPerAddress: 0 });
    for (const bad of ['-1', '1000001', '2.5', 'many']) {
      expect(() => loadConfig({ MAX_CONNECTIONS_PER_ADDRESS: bad })).toThrow(
        new RegExp(`MAX_CONNECTIONS_PER_ADDRESS must be a whole number from 0 to 1000000, got "${bad}"`),
      );
    }
    // Counted at accept, by the peer: behind a proxy every client would share the proxy's count.
    expect(() => loadConfig({ MAX_CONNECTIONS_PER_ADDRESS: '64', TRUST_PROXY_HOPS: '1' })).toThrow(
      /MAX_CONNECTIONS_PER_ADDRESS counts the peer of a connection, which behind TRUST_PROXY_HOPS proxies is a proxy/,
    );
  });

  it('reads the HTTP timeouts, refusing headers that may take longer than the whole request', () => {
    expect(
      loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '2000' }).edge,
    ).toMatchObject({ requestTimeoutMs: 5000, headersTimeoutMs: 2000 });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' })).toThrow(
      /HTTP_HEADERS_TIMEOUT_MS must not be longer than HTTP_REQUEST_TIMEOUT_MS/,
    );
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '10' })).toThrow(/HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('reads the token policy: 30 days at most by default, optional issuer and audience', () => {
    expect(loadConfig({}).tokens).toEqual({
      maxLifetimeSeconds: 2_592_000,
      issuer: undefined,
      audience: undefined,
    });
    expect(
      loadConfig({
        JWT_MAX_LIFETIME_SECONDS: '3600',
        JWT_ISSUER: 'https://auth.example',
        JWT_AUDIENCE: 'api',
      }).tokens,
    ).toEqual({ maxLifetimeSeconds: 3600, issuer: 'https://auth.example', audience: 'api' });
    expect(() => loadConfig({ JWT_MAX_LIFETIME_SECONDS: '0' })).toThrow(/JWT_MAX_LIFETIME_SECONDS/);
    expect(() => loadConfig({ JWT_ISSUER: 'x'.repeat(300) })).toThrow(/JWT_ISSUER must be at most 255/);
  });

  it('reads the back-in-stock bounds: 100 open requests per customer, closed ones kept 30 days', () => {
    expect(loadConfig({}).alerts).toEqual({ maxPerCustomer: 100, retentionMs: 30 * 86_400_000 });
    expect(loadConfig({ MAX_ALERTS_PER_CUSTOMER: '5', ALERT_RETENTION_DAYS: '1' }).alerts).toEqual({
      maxPerCustomer: 5,
      retentionMs: 86_400_000,
    });
    for (const bad of ['0', '-1', '100001', '2.5', 'many']) {
      expect(() => loadConfig({ MAX_ALERTS_PER_CUSTOMER: bad })).toThrow(
        new RegExp(`MAX_ALERTS_PER_CUSTOMER must be a whole number from 1 to 100000, got "${bad}"`),
      );
    }
    for (const bad of ['0', '3651', '1.5', 'week']) {
      expect(() => loadConfig({ ALERT_RETENTION_DAYS: bad })).toThrow(
        new RegExp(`ALERT_RETENTION_DAYS must be a whole number from 1 to 3650, got "${bad}"`),
      );
    }
  });

  it('reads the default per-customer cap: 10,000 units unless set, 0 turning it off, else 1..1,000,000', () => {
    expect(loadConfig({}).maxPerCustomerDefault).toBe(10_000);
    expect(loadConfig({ MAX_PER_CUSTOMER_DEFAULT: '0' }).maxPerCustomerDefault).toBe(0);
    expect(loadConfig({ MAX_PER_CUSTOMER_DEFAULT: '1' }).maxPerCustomerDefault).toBe(1);
    expect(loadConfig({ MAX_PER_CUSTOMER_DEFAULT: '1000000' }).maxPerCustomerDefault).toBe(1_000_000);
    const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) };
    expect(loadConfig(production).maxPerCustomerDefault).toBe(10_000);
    for (const bad of ['-1', '1000001', '2.5', 'none', 'off']) {
      expect(() => loadConfig({ MAX_PER_CUSTOMER_DEFAULT: bad })).toThrow(
        new RegExp(`MAX_PER_CUSTOMER_DEFAULT must be a whole number from 0 to 1000000, got "${bad}"`),
      );
    }
  });

  it('refuses values it cannot use, naming them', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT must be a whole number from 0 to 65535/);
    expect(() => loadConfig({ SEED_DEMO: 'maybe' })).toThrow(/SEED_DEMO must be true or false/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(loadConfig({ SEED_DEMO: 'false', DATABASE_URL: 'postgres://u@h/db' })).toMatchObject({
      seedDemo: false,
      databaseUrl: 'postgres://u@h/db',
    });
  });
});
