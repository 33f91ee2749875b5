import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

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
