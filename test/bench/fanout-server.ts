/**
 * The service alone in a process of its own, for benchmarks that measure it from outside (bench:fanout,
 * bench:write-overhead): its memory and event loop then hold nothing of the clients'.
 *
 * Driven over IPC (see ChildProcessRpc in common.ts). Requests, each with a `seq` that the reply repeats:
 * - { cmd: 'start', databaseUrl, jwtSecret, poolMax, statementTimeoutMs } -> { url }: buildApp on 127.0.0.1
 *   (a free port), merge window 100 ms;
 * - { cmd: 'stats', gc } -> memory (after a full collection with gc: true, when run with --expose-gc),
 *   statements sent (app.queries.count), change-log reads, snapshots built (app.live.hub.snapshots) and the
 *   event loop's cumulative busy and idle time;
 * - { cmd: 'stop' }: stops the service and exits.
 * Ctrl-C is left to the parent, which stops this process during its cleanup; if the parent goes away, the
 * service stops by itself.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { configureLog } from '../../src/base/log.ts';
import { type App, buildApp } from '../../src/edge/app/server.ts';
import type { AbuseLimits } from '../../src/edge/settings/abuse-limits.ts';
import { readSettings } from '../../src/edge/settings/settings.ts';

// The service's log as LOG_LEVEL and LOG_FORMAT say (the benchmarks quieten it).
const settings = readSettings();
configureLog({ level: settings.LOG_LEVEL, format: settings.LOG_FORMAT });

interface Request {
  seq: number;
  cmd: 'start' | 'stats' | 'stop';
  databaseUrl?: string;
  jwtSecret?: string;
  poolMax?: number;
  statementTimeoutMs?: number;
  /** Rate limits, connection caps and admission control; the defaults when omitted. */
  abuse?: AbuseLimits;
  gc?: boolean;
}

let app: App | undefined;
let stopping: Promise<void> | undefined;

function stop(): Promise<void> {
  stopping ??= (async () => {
    try {
      await app?.stop();
    } finally {
      process.disconnect?.();
      process.exit(0);
    }
  })();
  return stopping;
}

async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  await sleep(50);
  gc();
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  switch (request.cmd) {
    case 'start': {
      app = buildApp({
        databaseUrl: request.databaseUrl!,
        jwtSecret: request.jwtSecret!,
        pool: {
          max: request.poolMax!,
          connectionTimeoutMs: 30_000,
          statementTimeoutMs: request.statementTimeoutMs!,
        },
        mergeWindowMs: 100,
        production: false,
        ...(request.abuse ? { abuse: request.abuse } : {}),
      });
      const { url } = await app.start(0, '127.0.0.1');
      return { url };
    }
    case 'stats': {
      if (!app) throw new Error('not started');
      if (request.gc) await collectGarbage();
      const memory = process.memoryUsage();
      const loop = performance.eventLoopUtilization();
      return {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        external: memory.external,
        queries: app.queries.count,
        changeLogReads: app.live.feed.queries,
        snapshots: app.live.hub.snapshots,
        loopActiveMs: loop.active,
        loopIdleMs: loop.idle,
      };
    }
    case 'stop':
      process.send?.({ seq: request.seq, ok: true });
      await stop();
      return {};
  }
}

process.on('SIGINT', () => {});
process.on('SIGTERM', () => void stop());
// Ctrl-C reaches an embedded Postgres too: its connections die, which is no reason for a stack trace. The
// parent sees this process end and cleans up.
process.on('uncaughtException', (err) => {
  if ((err as { code?: unknown }).code === '57P01') {
    console.error('service process: the database server is shutting down: stopping');
  } else {
    console.error(err);
  }
  process.exit(1);
});
process.on('disconnect', () => void stop());
process.on('message', (request: Request) => {
  handle(request).then(
    (reply) => process.send?.({ ...reply, seq: request.seq, ok: true }),
    (err: Error) => process.send?.({ seq: request.seq, ok: false, error: err.stack ?? err.message }),
  );
});
process.send?.({ ready: true });
