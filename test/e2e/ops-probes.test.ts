import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RECHECK_MS, type ReadyReport } from '../../src/edge/ops/readiness.ts';
import { ViewerDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const GRACE_MS = 400;
let t: TestApp;
let base: string;
let admin: pg.Client;
/** On the server's own database: a database cannot refuse connections by a statement run inside it. */
let superuser: pg.Client;

beforeAll(async () => {
  t = await startTestApp({ ops: { listenerGraceMs: GRACE_MS } });
  base = `http://127.0.0.1:${t.port}`;
  admin = new pg.Client({ connectionString: t.database.url });
  await admin.connect();
  superuser = new pg.Client({ connectionString: inject('adminUrl') });
  await superuser.connect();
});
afterAll(async () => {
  await admin?.end();
  await superuser?.end();
  await t?.stop();
});

async function ready(): Promise<{ status: number; body: ReadyReport }> {
  const res = await fetch(`${base}/ready`);
  return { status: res.status, body: (await res.json()) as ReadyReport };
}

/** Polls /ready until `test` holds (or fails the test after timeoutMs). */
async function readyUntil(test: (r: { status: number; body: ReadyReport }) => boolean, timeoutMs = 8000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ready();
    if (test(r)) return r;
    if (Date.now() > deadline) throw new Error(`/ready never got there: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('/health and /ready', () => {
  it('says the process is alive, and ready with what it checked', async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'alive' });
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      ready: true,
      shuttingDown: false,
      database: { ok: true },
      migrations: { atHead: true, pending: [] },
      listener: { connected: true, graceMs: GRACE_MS },
    });
    expect(r.body.reason).toBeUndefined();
  });

  it('is cheap: 50 polls cost at most a few statements', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await ready();
    // What the instance runs by itself meanwhile (the change feed's poll, jobs), over the same time.
    const idleFrom = t.app.queries.count;
    await sleep(1000);
    const background = t.app.queries.count - idleFrom;

    const before = t.app.queries.count;
    const checksBefore = t.app.ops.readiness.checks;
    const startedAt = Date.now();
    for (let i = 0; i < 50; i++) expect((await ready()).status).toBe(200);
    const elapsed = Date.now() - startedAt;
    await sleep(Math.max(0, 1000 - elapsed));
    const checks = t.app.ops.readiness.checks - checksBefore;
    expect(checks).toBeLessThanOrEqual(Math.ceil(Math.max(elapsed, 1000) / RECHECK_MS) + 1);
    // Each check is one statement; allow the background some jitter, far below one statement per poll.
    expect(t.app.queries.count - before).toBeLessThanOrEqual(background + checks + 3);
    expect(background + checks + 3).toBeLessThan(25);
  });

  it('answers probes only to GET and HEAD', async () => {
    expect((await fetch(`${base}/ready`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/health`, { method: 'HEAD' })).status).toBe(200);
  });

  it('is unready while a migration of the code is missing from the database, naming it', async () => {
    const { rows } = await admin.query<{ name: string }>(
      'DELETE FROM kysely_migration WHERE name = (SELECT max(name) FROM kysely_migration) RETURNING name',
    );
    const name = rows[0]!.name;
    try {
      const r = await readyUntil((x) => x.status === 503);
      expect(r.body.reason).toContain('migrations not at head');
      expect(r.body.migrations).toEqual({ atHead: false, pending: [name] });
    } finally {
      await admin.query('INSERT INTO kysely_migration (name, timestamp) VALUES ($1, $2)', [
        name,
        new Date().toISOString(),
      ]);
    }
    await readyUntil((x) => x.status === 200);
  });

  it('reports the change listener down, and turns unready only after its grace; back when it returns', async () => {
    const db = t.database.url.split('/').pop()!;
    await superuser.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [t.app.live.wakeup.listenerPid]);
      const down = await readyUntil((x) => !x.body.listener.connected);
      if (down.body.listener.downForMs! < GRACE_MS) {
        expect(down.status).toBe(200);
        expect(down.body.listener.downSince).toEqual(expect.any(String));
      }
      const unready = await readyUntil((x) => x.status === 503);
      expect(unready.body.reason).toMatch(/^change listener down for \d+ ms \(more than 400 ms\)$/);
      expect(unready.body.listener.downForMs).toBeGreaterThan(GRACE_MS);
    } finally {
      await superuser.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
    }
    const back = await readyUntil((x) => x.status === 200, 10_000);
    expect(back.body.listener.connected).toBe(true);
    expect(back.body.listener.downSince).toBeUndefined();
  });

  it('is unready when the database does not answer, without its error in the answer', async () => {
    const db = t.database.url.split('/').pop()!;
    await superuser.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS false`);
    try {
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'backorder-api'",
      );
      const r = await readyUntil((x) => x.body.database.ok === false);
      expect(r.status).toBe(503);
      expect(r.body.reason).toBe('database does not answer');
      expect(JSON.stringify(r.body)).not.toMatch(/allow|connections|FATAL/i);
    } finally {
      await superuser.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
    }
    await readyUntil((x) => x.status === 200, 15_000);
  });
});

describe('request ids', () => {
  it("returns the caller's id, or a fresh one when it is missing, long or unsafe", async () => {
    const post = (id?: string) =>
      fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(id === undefined ? {} : { 'x-request-id': id }) },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
    expect((await post('lb-1234.abc')).headers.get('x-request-id')).toBe('lb-1234.abc');
    for (const id of [undefined, 'x'.repeat(200), 'a b;c']) {
      const given = (await post(id)).headers.get('x-request-id');
      expect(given).toMatch(/^[0-9a-f-]{36}$/);
    }
    // Also on answers the edge gives before GraphQL (a refused body type).
    const refused = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-request-id': 'r-415' },
      body: 'x',
    });
    expect(refused.status).toBe(415);
    expect(refused.headers.get('x-request-id')).toBe('r-415');
    expect(await t.ok(ViewerDocument, {})).toEqual({ viewer: null });
  });
});
