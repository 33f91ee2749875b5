import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { log } from '../../src/base/log.ts';
import { markDelivered, markFailed } from '../../src/db/repos/webhooks.ts';
import { Writer } from '../../src/db/transaction.ts';
import { DeleteWebhookEndpointDocument } from '../generated/graphql.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { createEndpoint, queueBacklog, queueEvent, Receiver, until } from '../helpers/webhooks.ts';

// Deleting an endpoint locks it, then its deliveries (the cascade); the worker settling an attempt locks
// the endpoint, then the delivery: the same order, so the two never wait for each other in a circle.
let t: TestApp;
let staff: string;
const receivers: Receiver[] = [];
const warn = vi.spyOn(log, 'warn');
const error = vi.spyOn(log, 'error');

beforeAll(async () => {
  t = await startTestApp({
    poolMax: 20,
    webhooks: {
      allowLoopback: true,
      pollMs: 20,
      backoffBaseMs: 10,
      backoffCapMs: 40,
      maxAttempts: 100_000,
      timeoutMs: 2000,
      concurrency: 32,
      endpointConcurrency: 4,
      // Failing endpoints keep several attempts in flight here, so that settlements meet the deletes.
      failingEndpointConcurrency: 4,
    },
  });
  staff = await t.token('staff');
});
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.down();
});
afterAll(() => t?.stop());

/**
 * For each endpoint, a history of `delivered` deliveries (which a delete's cascade goes through before it
 * reaches those in flight), then `subjects` × `perSubject` pending ones, each with 3 failed attempts.
 */
async function backlog(
  endpoints: number[],
  tag: string,
  delivered: number,
  subjects: number,
  perSubject: number,
) {
  await queueBacklog(t.database.db, endpoints, `${tag}-old`, delivered, 1);
  await sql`UPDATE webhook_delivery SET status = 'DELIVERED', delivered_at = now(), attempts = 1
    WHERE endpoint_id = ANY(${endpoints}::bigint[])`.execute(t.database.db);
  await queueBacklog(t.database.db, endpoints, tag, subjects, perSubject);
  await sql`
    INSERT INTO webhook_attempt (delivery_id, status, error, duration_ms)
    SELECT d.id, 500, 'HTTP 500', 1 FROM webhook_delivery d, generate_series(1, 3)
    WHERE d.endpoint_id = ANY(${endpoints}::bigint[]) AND d.status = 'PENDING'
  `.execute(t.database.db);
}

describe('deleting endpoints while their deliveries fail', () => {
  it('answers every delete, in parallel with the worker settling failed attempts, without a deadlock', async () => {
    warn.mockClear();
    error.mockClear();
    for (let round = 0; round < 5; round++) {
      const endpoints = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const rx = await Receiver.start();
          rx.answer = async () => {
            await new Promise((r) => setTimeout(r, Math.random() * 3));
            return 500;
          };
          receivers.push(rx);
          return createEndpoint(t, staff, rx.url());
        }),
      );
      const ids = endpoints.map((e) => e.localId);
      await backlog(ids, `backorder:race-${round}`, 3000, 100, 2);
      t.app.webhooks.poke();
      // The worker is busy failing and settling attempts to every one of them...
      await until(
        'attempts under way to every endpoint',
        async () => {
          const { rows } = await sql<{ n: number }>`
            SELECT count(DISTINCT endpoint_id)::int AS n FROM webhook_delivery
            WHERE endpoint_id = ANY(${ids}::bigint[]) AND attempts > 0`.execute(t.database.db);
          return rows[0]!.n === ids.length;
        },
        10_000,
      );
      await new Promise((r) => setTimeout(r, 100));
      // ...when staff delete them all at once.
      const answers = await Promise.all(
        endpoints.map((e) => t.gql(DeleteWebhookEndpointDocument, { id: e.id }, staff)),
      );
      for (const [i, answer] of answers.entries()) {
        expect(answer.errors).toBeUndefined();
        expect(answer.data?.deleteWebhookEndpoint).toEqual({
          __typename: 'DeleteWebhookEndpointSuccess',
          deletedId: endpoints[i]!.id,
        });
      }
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM webhook_delivery WHERE endpoint_id = ANY(${ids}::bigint[])`.execute(
        t.database.db,
      );
      expect(rows[0]!.n).toBe(0);
    }
    // Neither side failed: no deadlock broken by Postgres, no settlement that failed, no internal error.
    await new Promise((r) => setTimeout(r, 300));
    expect(error).not.toHaveBeenCalled();
    expect(warn.mock.calls.map((c) => String(c[0])).filter((m) => /webhook|deadlock/i.test(m))).toEqual([]);
  });

  it.each([
    ['a failed attempt', 'failed'],
    ['a success', 'delivered'],
  ] as const)(
    'settling %s waits for an endpoint being deleted before it touches the delivery',
    async (_, how) => {
      const rx = await Receiver.start();
      receivers.push(rx);
      const endpoint = await createEndpoint(t, staff, rx.url());
      // Disabled, so that only this test settles its delivery; failing, so that a success updates it too.
      await sql`UPDATE webhook_endpoint SET enabled = false, failing_since = now()
      WHERE id = ${endpoint.localId}`.execute(t.database.db);
      await queueEvent(t.database.db, [endpoint.localId], `backorder:lock-${how}`);
      const { id } = await t.database.db
        .selectFrom('webhook_delivery')
        .select('id')
        .where('endpoint_id', '=', endpoint.localId)
        .executeTakeFirstOrThrow();

      // A delete has locked the endpoint and is about to cascade to its deliveries.
      const deleting = new pg.Client({ connectionString: t.database.url });
      await deleting.connect();
      try {
        await deleting.query('BEGIN');
        await deleting.query('SELECT 1 FROM webhook_endpoint WHERE id = $1 FOR UPDATE', [endpoint.localId]);
        const delivery = { id, endpointId: endpoint.localId };
        const settling =
          how === 'failed'
            ? t.database.writer.run((tx) =>
                markFailed(tx, {
                  ...delivery,
                  status: 500,
                  error: 'HTTP 500',
                  durationMs: 1,
                  dead: false,
                  retryInMs: 1000,
                  disableAfterMs: 86_400_000,
                }),
              )
            : markDelivered(new Writer(t.database.db).alone(), delivery, 204);
        const outcome = settling.then(
          () => 'settled',
          (err: Error) => err.message,
        );
        await until('the settlement waiting for a lock', async () => {
          const { rows } = await deleting.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          );
          return rows[0].n > 0;
        });
        // It holds nothing of the delivery: the cascade goes through, and the delete commits.
        await deleting.query('SET lock_timeout = 3000');
        await deleting.query('DELETE FROM webhook_endpoint WHERE id = $1', [endpoint.localId]);
        await deleting.query('COMMIT');
        expect(await outcome).toBe('settled');
      } finally {
        await deleting.end();
      }
      const left = await t.database.db
        .selectFrom('webhook_delivery')
        .select('id')
        .where('id', '=', id)
        .execute();
      expect(left).toEqual([]);
    },
  );
});
