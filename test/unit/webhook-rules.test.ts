import http from 'node:http';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { addressKind, refusedAddress } from '../../src/domain/rules/webhook-addresses.ts';
import { backoffMs, isExhausted } from '../../src/domain/rules/webhook-retry.ts';
import { webhookUrlProblem } from '../../src/domain/rules/webhook-urls.ts';
import { loadConfig } from '../../src/edge/settings/config.ts';
import { guardedLookup, sendWebhook } from '../../src/outbox/webhook-send.ts';
import { failingSlots, WEBHOOK_DEFAULTS } from '../../src/outbox/webhook-settings.ts';

describe('webhook URLs when saved', () => {
  const strict = { allowLoopbackHttp: false };
  const loopback = { allowLoopbackHttp: true };

  it('accepts https anywhere, and http only to loopback where allowed', () => {
    expect(webhookUrlProblem('https://erp.example/hooks?x=1', strict)).toBeNull();
    expect(webhookUrlProblem('http://erp.example/hooks', strict)).toBe('Only https URLs are accepted');
    expect(webhookUrlProblem('http://erp.example/hooks', loopback)).toBe('Only https URLs are accepted');
    expect(webhookUrlProblem('http://10.0.0.5/hooks', loopback)).toBe('Only https URLs are accepted');
    expect(webhookUrlProblem('http://127.0.0.1:8080/hooks', strict)).toMatch(/only when allowed/);
    for (const url of [
      'http://127.0.0.1:8080/h',
      'http://localhost:9/h',
      'http://[::1]:9/h',
      'http://127.9.9.9/',
    ]) {
      expect(webhookUrlProblem(url, loopback)).toBeNull();
    }
  });

  it('refuses other schemes, credentials, relative and overlong URLs', () => {
    expect(webhookUrlProblem('ftp://erp.example/x', loopback)).toBe('Only https URLs are accepted');
    expect(webhookUrlProblem('file:///etc/passwd', loopback)).toBe('Only https URLs are accepted');
    expect(webhookUrlProblem('https://user:pw@erp.example/x', strict)).toBe(
      'The URL must not carry credentials',
    );
    expect(webhookUrlProblem('https://user@erp.example/x', strict)).toBe(
      'The URL must not carry credentials',
    );
    expect(webhookUrlProblem('/hooks', strict)).toBe('Not an absolute URL');
    expect(webhookUrlProblem(`https://erp.example/${'a'.repeat(2048)}`, strict)).toMatch(/longer than 2048/);
  });
});

describe('addresses at send time', () => {
  it('knows the ranges that are not the public internet', () => {
    const cases: [string, string | null][] = [
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['172.32.0.1', null],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['100.128.0.1', null],
      ['224.0.0.1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['255.255.255.255', 'reserved'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['ff02::1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['64:ff9b::a00:1', 'private'],
      ['8.8.8.8', null],
      ['2606:4700::1111', null],
      ['::ffff:8.8.8.8', null],
      ['not-an-ip', 'reserved'],
    ];
    for (const [address, kind] of cases) expect([address, addressKind(address)]).toEqual([address, kind]);
  });

  it('allows loopback only with its setting, private ranges only with theirs, multicast never', () => {
    const none = { allowLoopback: false, allowPrivate: false };
    expect(refusedAddress('127.0.0.1', none)).toBe('127.0.0.1 is a loopback address');
    expect(refusedAddress('127.0.0.1', { allowLoopback: true, allowPrivate: false })).toBeNull();
    expect(refusedAddress('127.0.0.1', { allowLoopback: false, allowPrivate: true })).not.toBeNull();
    expect(refusedAddress('10.0.0.1', { allowLoopback: true, allowPrivate: false })).not.toBeNull();
    expect(refusedAddress('10.0.0.1', { allowLoopback: false, allowPrivate: true })).toBeNull();
    expect(refusedAddress('fd00::1', { allowLoopback: false, allowPrivate: true })).toBeNull();
    expect(refusedAddress('224.0.0.1', { allowLoopback: true, allowPrivate: true })).not.toBeNull();
    expect(refusedAddress('0.0.0.0', { allowLoopback: true, allowPrivate: true })).not.toBeNull();
    expect(refusedAddress('93.184.216.34', none)).toBeNull();
  });

  it('refuses the special-purpose addresses the worker once connected to, written in the URL, before connecting', async () => {
    // The review saw deliveries reach 192.0.2.2 (documentation) and 198.18.0.1 (benchmarking); every
    // block of the registries is in test/unit/webhook-addresses.test.ts.
    const policy = { allowLoopback: true, allowPrivate: true };
    const agents = { http: new http.Agent(), https: new https.Agent() };
    const send = (url: string) =>
      sendWebhook(
        { url, eventId: 'evt_1', body: '{}', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
        { timeoutMs: 1000, policy, lookup: guardedLookup(policy), agents },
      );
    for (const [url, why] of [
      ['https://192.0.2.2/hooks', '192.0.2.2 is a reserved address'],
      ['https://198.18.0.1/hooks', '198.18.0.1 is a reserved address'],
      [
        'https://[::ffff:c612:1]/hooks',
        '::ffff:c612:1 is a reserved address (IPv4-mapped 198.18.0.1, reserved)',
      ],
      [
        'https://[::c000:202]/hooks',
        '::c000:202 is a reserved address (IPv4-compatible 192.0.2.2, reserved)',
      ],
      [
        'https://[2002:c000:202::1]/hooks',
        '2002:c000:202::1 is a reserved address (6to4 192.0.2.2, reserved)',
      ],
    ] as const) {
      const result = await send(url);
      expect([url, result.ok, result.status, result.error]).toEqual([url, false, null, `refused: ${why}`]);
    }
  });

  it('refuses a name that resolves to a refused address when connecting, in both lookup forms', async () => {
    const lookup = guardedLookup({ allowLoopback: false, allowPrivate: false });
    const one = await new Promise<{ err: Error | null; address: string }>((resolve) =>
      lookup('localhost', {}, (err, address) => resolve({ err, address: String(address) })),
    );
    expect(one.err?.message).toMatch(/localhost refused: .* is a loopback address/);
    const all = await new Promise<Error | null>((resolve) =>
      lookup('localhost', { all: true }, (err) => resolve(err)),
    );
    expect(all?.message).toMatch(/loopback/);
    const allowed = guardedLookup({ allowLoopback: true, allowPrivate: false });
    const ok = await new Promise<unknown>((resolve) =>
      allowed('localhost', { all: true }, (err, addresses) => resolve(err ?? addresses)),
    );
    expect(ok).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) })]));
  });
});

describe('retries', () => {
  const policy = { baseMs: 5_000, capMs: 3_600_000, maxAttempts: 15 };

  it('doubles from the base with jitter in the upper half, up to the cap', () => {
    expect(backoffMs(1, policy, () => 0)).toBe(2_500);
    expect(backoffMs(1, policy, () => 1)).toBe(5_000);
    expect(backoffMs(2, policy, () => 1)).toBe(10_000);
    expect(backoffMs(4, policy, () => 0.5)).toBe(30_000);
    expect(backoffMs(14, policy, () => 1)).toBe(3_600_000);
    expect(backoffMs(1000, policy, () => 0)).toBe(1_800_000);
  });

  it('gives up after the last attempt', () => {
    expect(isExhausted(14, policy)).toBe(false);
    expect(isExhausted(15, policy)).toBe(true);
  });
});

describe('webhook settings', () => {
  it('has defaults and reads every WEBHOOK_ variable', () => {
    expect(loadConfig({}).webhooks).toEqual(WEBHOOK_DEFAULTS);
    const config = loadConfig({
      WEBHOOK_WORKER: 'false',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_CAP_MS: '1000',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_CONCURRENCY: '4',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      WEBHOOK_FAILING_ENDPOINT_CONCURRENCY: '2',
      WEBHOOK_DISABLE_AFTER_MINUTES: '30',
      WEBHOOK_POLL_MS: '200',
      WEBHOOK_RETENTION_DAYS: '2',
    }).webhooks;
    expect(config).toEqual({
      ...WEBHOOK_DEFAULTS,
      worker: false,
      allowLoopback: true,
      allowPrivate: true,
      timeoutMs: 2500,
      backoffBaseMs: 100,
      backoffCapMs: 1000,
      maxAttempts: 3,
      concurrency: 4,
      endpointConcurrency: 2,
      failingEndpointConcurrency: 2,
      disableAfterMs: 1_800_000,
      pollMs: 200,
      retentionMs: 2 * 86_400_000,
    });
  });

  it('refuses loopback in production, and a cap below the base', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: 's'.repeat(32) };
    expect(() => loadConfig({ ...production, WEBHOOK_ALLOW_LOOPBACK: 'true' })).toThrow(
      /WEBHOOK_ALLOW_LOOPBACK cannot be on in production/,
    );
    expect(loadConfig(production).webhooks.allowLoopback).toBe(false);
    expect(() => loadConfig({ WEBHOOK_BACKOFF_BASE_MS: '5000', WEBHOOK_BACKOFF_CAP_MS: '100' })).toThrow(
      /WEBHOOK_BACKOFF_CAP_MS/,
    );
    expect(() => loadConfig({ WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(/WEBHOOK_MAX_ATTEMPTS/);
  });

  it('gives a failing endpoint one slot by default, never more than any endpoint, and failing ones half', () => {
    expect(WEBHOOK_DEFAULTS.failingEndpointConcurrency).toBe(1);
    expect(() => loadConfig({ WEBHOOK_FAILING_ENDPOINT_CONCURRENCY: '0' })).toThrow(
      /WEBHOOK_FAILING_ENDPOINT_CONCURRENCY/,
    );
    expect(() =>
      loadConfig({ WEBHOOK_ENDPOINT_CONCURRENCY: '2', WEBHOOK_FAILING_ENDPOINT_CONCURRENCY: '3' }),
    ).toThrow(/WEBHOOK_FAILING_ENDPOINT_CONCURRENCY must not be more than WEBHOOK_ENDPOINT_CONCURRENCY/);
    expect([16, 17, 2, 1].map((concurrency) => failingSlots({ concurrency }))).toEqual([8, 8, 1, 1]);
  });
});
