import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  customerCapBreach,
  customerCapInForce,
  MAX_PER_CUSTOMER_DEFAULT,
  MAX_TOTAL,
  totalOverflow,
} from '../../src/domain/rules/stock-rules.ts';
import { Admission, type AdmissionVerdict } from '../../src/edge/limits/admission.ts';
import { callerKey, clientAddress, normalize } from '../../src/edge/limits/caller.ts';
import { DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { loadConfig } from '../../src/edge/settings/config.ts';

describe('customerCapBreach', () => {
  const caps = new Map<number, number | null>([
    [1, 10],
    [2, 5],
    [3, null],
  ]);

  it('sums the lines of a product and compares with what the customer holds', () => {
    const lines = [
      { productId: 1, quantity: 4 },
      { productId: 1, quantity: 4 },
    ];
    expect(customerCapBreach(lines, caps, new Map([[1, 2]]))).toBeNull();
    expect(customerCapBreach(lines, caps, new Map([[1, 3]]))).toEqual({
      productId: 1,
      limit: 10,
      remaining: 7,
    });
  });

  it('names the first capped product over its cap in input order', () => {
    const lines = [
      { productId: 3, quantity: 100_000 },
      { productId: 2, quantity: 6 },
      { productId: 1, quantity: 11 },
    ];
    expect(customerCapBreach(lines, caps, new Map())).toEqual({ productId: 2, limit: 5, remaining: 5 });
  });

  it('never reports remaining below zero (a cap lowered under what is held)', () => {
    const breach = customerCapBreach([{ productId: 2, quantity: 1 }], caps, new Map([[2, 9]]));
    expect(breach).toEqual({ productId: 2, limit: 5, remaining: 0 });
  });

  it('ignores products without a cap', () => {
    expect(customerCapBreach([{ productId: 3, quantity: 100_000 }], caps, new Map([[3, 1e9]]))).toBeNull();
  });
});

describe('customerCapInForce', () => {
  it("is the product's own cap, else the service-wide default, and none when the default is off", () => {
    expect(MAX_PER_CUSTOMER_DEFAULT).toBe(10_000);
    expect(customerCapInForce(null, 10_000)).toBe(10_000);
    expect(customerCapInForce(5, 10_000)).toBe(5);
    expect(customerCapInForce(1_000_000, 10_000)).toBe(1_000_000);
    expect(customerCapInForce(null, 0)).toBeNull();
    expect(customerCapInForce(7, 0)).toBe(7);
  });

  it('makes one customer unable to fill an uncapped product alone', () => {
    const caps = new Map([[3, customerCapInForce(null, MAX_PER_CUSTOMER_DEFAULT)]]);
    const lines = Array.from({ length: 50 }, () => ({ productId: 3, quantity: 100_000 }));
    expect(customerCapBreach(lines, caps, new Map())).toEqual({
      productId: 3,
      limit: 10_000,
      remaining: 10_000,
    });
  });
});

describe('totalOverflow', () => {
  const zero = { onHand: 0, unitsOnBackorder: 0, queueLength: 0 };

  it('allows every total up to GraphQL Int and refuses one past it', () => {
    expect(totalOverflow(zero, { ...zero, onHand: MAX_TOTAL })).toBeNull();
    expect(totalOverflow({ ...zero, onHand: MAX_TOTAL - 5 }, { ...zero, onHand: MAX_TOTAL + 1 })).toEqual({
      total: 'ON_HAND',
      remaining: 5,
    });
    expect(totalOverflow(zero, { ...zero, unitsOnBackorder: MAX_TOTAL + 1 })?.total).toBe(
      'UNITS_ON_BACKORDER',
    );
    expect(totalOverflow(zero, { ...zero, queueLength: MAX_TOTAL + 1 })?.total).toBe('QUEUE_LENGTH');
  });
});

describe('caller addresses', () => {
  const req = (peer: string, forwarded?: string) =>
    ({
      socket: { remoteAddress: peer },
      headers: forwarded ? { 'x-forwarded-for': forwarded } : {},
    }) as unknown as IncomingMessage;

  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientAddress(req('10.0.0.1', '1.2.3.4'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', '1.2.3.4'), 1)).toBe('1.2.3.4');
  });

  it('believes only the entries the trusted proxies wrote', () => {
    // The client forged the first entry; the one proxy appended the real client address.
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4'), 1)).toBe('1.2.3.4');
    expect(clientAddress(req('10.0.0.2', '6.6.6.6, 1.2.3.4, 10.0.0.1'), 2)).toBe('1.2.3.4');
    // Fewer entries than trusted hops: the leftmost there is.
    expect(clientAddress(req('10.0.0.1'), 3)).toBe('10.0.0.1');
  });

  it('groups IPv6 by /64 and unwraps IPv4-mapped addresses', () => {
    expect(normalize('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(normalize('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(normalize('2001:db8:1:3::1')).not.toBe(normalize('2001:db8:1:2::1'));
    expect(normalize('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normalize('::1')).toBe('0:0:0:0::/64');
    expect(normalize('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('counts a token by its subject and anyone else by address', () => {
    expect(callerKey({ id: 'c-1', role: 'customer' }, '1.2.3.4')).toBe('customer:c-1');
    expect(callerKey(null, '1.2.3.4')).toBe('addr:1.2.3.4');
  });
});

describe('settings', () => {
  it('has rate limits off and admission control on by default', () => {
    const limits = loadConfig({}).abuse;
    expect(limits).toEqual(DEFAULT_ABUSE_LIMITS);
    expect(limits.rate.customer).toBe(0);
    expect(limits.rate.anonymous).toBe(0);
    expect(limits.admission.enabled).toBe(true);
  });

  it('refuses a REDIS_URL that is not one', () => {
    expect(() => loadConfig({ REDIS_URL: 'http://x' }).abuse).toThrow(/REDIS_URL/);
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).abuse.rate.redisUrl).toBe(
      'redis://127.0.0.1:6379',
    );
  });
});

describe('Admission', () => {
  const settings = { enabled: true, costInFlight: 100, costPerCaller: 60, fastLaneCost: 10, maxWaitMs: 100 };
  const admitted = (v: AdmissionVerdict | Promise<AdmissionVerdict>) => {
    if (v instanceof Promise || !('release' in v)) throw new Error('expected an immediate admission');
    return v;
  };

  it('lets cheap operations through without counting them', () => {
    const a = new Admission(settings);
    admitted(a.admit('x', 60));
    admitted(a.admit('y', 40));
    for (let i = 0; i < 100; i++) admitted(a.admit('z', 10));
    expect(a.inFlight).toBe(100);
  });

  it('holds the total and per-caller cost in flight, first come first served', async () => {
    const a = new Admission(settings);
    const first = admitted(a.admit('x', 50));
    const second = admitted(a.admit('y', 50));
    const third = a.admit('z', 20);
    expect(third).toBeInstanceOf(Promise);
    expect(a.waiting).toBe(1);
    first.release();
    const verdict = await third;
    expect('release' in verdict).toBe(true);
    expect(a.inFlight).toBe(70);
    second.release();
    (verdict as { release(): void }).release();
    expect(a.inFlight).toBe(0);
  });

  it("does not let one caller's wait hold back another caller", async () => {
    const a = new Admission(settings);
    admitted(a.admit('x', 50));
    const mine = a.admit('x', 50); // over x's share
    expect(mine).toBeInstanceOf(Promise);
    admitted(await Promise.resolve(a.admit('y', 40)));
    expect(a.inFlight).toBe(90);
  });

  it('runs an operation over the cap alone, when nothing else is in flight', async () => {
    const a = new Admission(settings);
    const big = admitted(a.admit('x', 1000));
    const small = a.admit('y', 20);
    expect(small).toBeInstanceOf(Promise);
    big.release();
    expect('release' in (await small)).toBe(true);
    const other = a.admit('z', 1000);
    expect(other).toBeInstanceOf(Promise);
  });

  it('refuses what waits longer than the longest wait, naming the limit', async () => {
    const a = new Admission({ ...settings, maxWaitMs: 30 });
    admitted(a.admit('x', 90));
    const started = Date.now();
    const verdict = await a.admit('y', 20);
    expect(verdict).toMatchObject({ refused: 'costInFlight' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(a.waiting).toBe(0);
    const mine = await a.admit('x', 20);
    expect(mine).toMatchObject({ refused: 'costPerCaller' });
  });

  it('admits everything at once when turned off', () => {
    const a = new Admission({ ...settings, enabled: false });
    for (let i = 0; i < 10; i++) admitted(a.admit('x', 1_000_000));
  });
});
