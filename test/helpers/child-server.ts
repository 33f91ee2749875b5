import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { TEST_SECRET } from './app.ts';
import { freePort } from './free-port.ts';

export interface ChildServer {
  process: ChildProcess;
  url: string;
  base: string;
  port: number;
  /** Every JSON log line written so far. */
  lines(): Record<string, unknown>[];
  /** Everything written to stderr so far, as text. */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm start` as an operator runs it: src/edge/main.ts in its own process, on a test database, logging JSON
 * lines at info. Resolves once /ready answers 200.
 */
export async function startChildServer(
  databaseUrl: string,
  env: Record<string, string> = {},
): Promise<ChildServer> {
  const port = await freePort();
  const root = path.resolve(import.meta.dirname, '../..');
  const { VITEST: _v, VITEST_POOL_ID: _p, VITEST_WORKER_ID: _w, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/edge/main.ts'], {
    cwd: root,
    env: {
      ...inherited,
      NODE_ENV: 'development',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_SECRET,
      SEED_DEMO: 'false',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let text = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start:\n${text}`);
    const ready = await fetch(`${base}/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within 30 s:\n${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    process: child,
    url: `${base}/graphql`,
    base,
    port,
    stderr: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
  };
}
