import { createServer, type Server, Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RateLimits } from '../../src/edge/limits/rate-limit.ts';
import { DEFAULT_ABUSE_LIMITS } from '../../src/edge/settings/abuse-limits.ts';
import { redisForTests, TEST_REDIS_URL } from '../helpers/abuse.ts';

const runnable = await redisForTests();
const target = new URL(TEST_REDIS_URL);

/** A TCP relay to Redis that can be cut and restored on the same port: Redis going away and coming back. */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(Number(target.port || 6379), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.once('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function recorder() {
  const lines: { level: 'warn' | 'info'; message: string }[] = [];
  return {
    lines,
    logger: {
      warn: (message: string) => lines.push({ level: 'warn', message }),
      info: (message: string) => lines.push({ level: 'info', message }),
    },
  };
}

const settings = (redisUrl: string, prefix: string) => ({
  ...DEFAULT_ABUSE_LIMITS.rate,
  customer: 3,
  anonymous: 3,
  windowSeconds: 60,
  redisUrl,
  keyPrefix: `test-${process.pid}-${Date.now()}-${prefix}`,
});

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

const opened: RateLimits[] = [];
afterAll(async () => {
  for (const r of opened) await r.close();
});

describe.skipIf(!runnable)('rate limits in Redis', () => {
  it('are shared by every instance using the same Redis', async () => {
    const s = settings(TEST_REDIS_URL, 'shared');
    const a = new RateLimits(s);
    const b = new RateLimits(s);
    opened.push(a, b);
    await Promise.all([a.ready(), b.ready()]);
    expect(await a.check('customer', 'c-1')).toEqual({ allowed: true });
    expect(await b.check('customer', 'c-1')).toEqual({ allowed: true });
    expect(await a.check('customer', 'c-1')).toEqual({ allowed: true });
    expect(await b.check('customer', 'c-1')).toMatchObject({ allowed: false, limit: 'rateCustomer' });
    expect(await a.check('customer', 'c-2')).toEqual({ allowed: true });
  });

  it('share refused credentials between instances, and let credentials through when Redis does not answer', async () => {
    const s = { ...settings(TEST_REDIS_URL, 'failed'), failedAuth: 2 };
    const a = new RateLimits(s);
    const b = new RateLimits(s);
    opened.push(a, b);
    await Promise.all([a.ready(), b.ready()]);
    await a.countFailedAuth('203.0.113.1');
    expect(await b.checkFailedAuth('203.0.113.1')).toEqual({ allowed: true });
    await b.countFailedAuth('203.0.113.1');
    expect(await a.checkFailedAuth('203.0.113.1')).toMatchObject({ allowed: false, limit: 'rateFailedAuth' });
    expect(await b.checkFailedAuth('203.0.113.2')).toEqual({ allowed: true });

    const { lines, logger } = recorder();
    const dead = new Relay();
    await dead.up();
    const port = dead.port;
    await dead.down();
    const away = new RateLimits(
      { ...settings(`redis://127.0.0.1:${port}`, 'failed-dead'), failedAuth: 1 },
      logger,
    );
    opened.push(away);
    for (let i = 0; i < 5; i++) await away.countFailedAuth('203.0.113.3');
    expect(await away.checkFailedAuth('203.0.113.3')).toEqual({ allowed: true });
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('let everything through when Redis does not answer, saying so once', async () => {
    const { lines, logger } = recorder();
    // A port where nothing listens.
    const dead = new Relay();
    await dead.up();
    const port = dead.port;
    await dead.down();
    const limits = new RateLimits(settings(`redis://127.0.0.1:${port}`, 'dead'), logger);
    opened.push(limits);
    for (let i = 0; i < 10; i++) expect(await limits.check('address', '1.2.3.4')).toEqual({ allowed: true });
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(lines[0]!.message).toMatch(/rate limits not enforced/);
  });

  it('fail open while Redis is away and count again once it is back', async () => {
    const relay = new Relay();
    await relay.up();
    const { lines, logger } = recorder();
    const limits = new RateLimits(settings(`redis://127.0.0.1:${relay.port}`, 'flaky'), logger);
    opened.push(limits);
    await limits.ready();
    for (let i = 0; i < 3; i++) expect((await limits.check('customer', 'c-9')).allowed).toBe(true);
    expect((await limits.check('customer', 'c-9')).allowed).toBe(false);

    await relay.down();
    for (let i = 0; i < 20; i++) expect((await limits.check('customer', 'c-10')).allowed).toBe(true);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);

    await relay.up(); // the same port again
    // Counting resumes on its own; the counter kept in Redis still holds c-9 back.
    await eventually(async () => !(await limits.check('customer', 'c-9')).allowed);
    expect(lines.filter((l) => l.level === 'info')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    await relay.down();
  });
});
