import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/edge/settings/config.ts';

const secret = { JWT_SECRET: 'x'.repeat(32) };

describe('operating settings', () => {
  it('serve metrics outside production, not in production unless asked', () => {
    expect(loadConfig({}).ops).toEqual({
      metrics: true,
      metricsPort: undefined,
      listenerGraceMs: 30_000,
      shutdownTimeoutMs: 10_000,
    });
    expect(loadConfig({ ...secret, NODE_ENV: 'production' }).ops.metrics).toBe(false);
    expect(loadConfig({ ...secret, NODE_ENV: 'production', METRICS: 'true' }).ops.metrics).toBe(true);
  });

  it('read every setting', () => {
    expect(
      loadConfig({
        METRICS: 'false',
        METRICS_PORT: '9464',
        READY_LISTENER_GRACE_MS: '5000',
        SHUTDOWN_TIMEOUT_MS: '20000',
      }).ops,
    ).toEqual({ metrics: false, metricsPort: 9464, listenerGraceMs: 5000, shutdownTimeoutMs: 20_000 });
  });

  it.each([
    ['METRICS', 'maybe'],
    ['METRICS_PORT', '70000'],
    ['READY_LISTENER_GRACE_MS', '-1'],
    ['SHUTDOWN_TIMEOUT_MS', '10'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
  ])('refuse a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
