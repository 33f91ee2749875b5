import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import type { Db } from '../../src/db/connect.ts';
import { fromGlobalId } from '../../src/schema/ids.ts';
import { CreateWebhookEndpointDocument, type WebhookEventType } from '../generated/graphql.ts';
import type { TestApp } from './app.ts';

/** A real HTTP receiver on 127.0.0.1 that records what it is sent and answers as a test tells it. */

export interface Received {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  path: string;
  at: number;
}

/** The status to answer, or 'hold' to keep the request open until `release()`. */
export type Answer = number | 'hold';

export class Receiver {
  readonly received: Received[] = [];
  answer: (r: Received) => Answer | Promise<Answer> = () => 204;
  private readonly held = new Set<ServerResponse>();
  private server: Server | undefined;
  port = 0;

  static async start(port = 0): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.listen(port);
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Listens (again, on the same port after `down()`). */
  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const r: Received = {
          id: String(req.headers['webhook-id']),
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          path: req.url ?? '',
          at: Date.now(),
        };
        this.received.push(r);
        const answer = await this.answer(r);
        if (answer === 'hold') {
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
          return;
        }
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Answers every held request with 204. */
  release(status = 204): void {
    for (const res of this.held) res.writeHead(status).end();
    this.held.clear();
  }

  get holding(): number {
    return this.held.size;
  }

  /** Stops listening and cuts every connection: the receiver is down. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const res of this.held) res.destroy();
    this.held.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  ids(): string[] {
    return this.received.map((r) => r.id);
  }
}

/** Resolves once `check` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function createEndpoint(
  t: TestApp,
  staff: string,
  url: string,
  eventTypes: WebhookEventType[] = ['BACKORDER_CREATED'],
): Promise<{ id: string; localId: number; secret: string }> {
  const data = await t.ok(CreateWebhookEndpointDocument, { input: { url, eventTypes } }, staff);
  const r = data.createWebhookEndpoint;
  if (r.__typename !== 'CreateWebhookEndpointSuccess')
    throw new Error(`createWebhookEndpoint: ${JSON.stringify(r)}`);
  return { id: r.endpoint.id, localId: fromGlobalId(r.endpoint.id, 'WebhookEndpoint')!, secret: r.secret };
}

const sequences = new Map<string, number>();

/**
 * Queues one public event for the given endpoints, as the outbox relay does: an immutable outbox row and
 * one pending delivery per endpoint, in one transaction.
 */
export async function queueEvent(
  db: Db,
  endpointIds: number[],
  subject: string,
  type = 'backorder.created',
): Promise<{ id: string; body: string; sequence: number }> {
  const sequence = (sequences.get(subject) ?? 0) + 1;
  sequences.set(subject, sequence);
  const id = `evt_${randomUUID()}`;
  const body = JSON.stringify({ id, type, subject, sequence, time: new Date().toISOString(), version: 1 });
  await db.transaction().execute(async (trx) => {
    const { position } = await trx
      .insertInto('outbox_event')
      .values({ id, type, source_seq: 0, subject, sequence, customer_id: null, product_id: null, body })
      .returning('position')
      .executeTakeFirstOrThrow();
    for (const endpointId of endpointIds) {
      await trx
        .insertInto('webhook_delivery')
        .values({ endpoint_id: endpointId, event_position: position, subject })
        .execute();
    }
  });
  return { id, body, sequence };
}

/**
 * Queues a backlog in one statement: `subjects` subjects of `perSubject` events each (subject
 * `<tag>-<s>`, sequence 1 first), every event to every one of the endpoints, pending and due now.
 */
export async function queueBacklog(
  db: Db,
  endpointIds: number[],
  tag: string,
  subjects: number,
  perSubject: number,
): Promise<void> {
  await sql`
    WITH ev AS (
      INSERT INTO outbox_event (id, type, source_seq, subject, sequence, customer_id, product_id, body)
      SELECT x.id, 'backorder.created', 0, x.subject, x.n, NULL, NULL,
        json_build_object('id', x.id, 'type', 'backorder.created', 'subject', x.subject, 'sequence', x.n,
          'version', 1)::text
      FROM (
        SELECT 'evt_' || gen_random_uuid() AS id, ${tag} || '-' || s AS subject, s, n
        FROM generate_series(1, ${subjects}::int) s, generate_series(1, ${perSubject}::int) n
      ) x
      ORDER BY x.n, x.s
      RETURNING position, subject
    )
    INSERT INTO webhook_delivery (endpoint_id, event_position, subject)
    SELECT e, ev.position, ev.subject FROM ev, unnest(${endpointIds}::bigint[]) e
  `.execute(db);
}

export async function deliveryRows(db: Db, endpointId: number) {
  return db
    .selectFrom('webhook_delivery as d')
    .innerJoin('outbox_event as o', 'o.position', 'd.event_position')
    .select(['d.id', 'd.status', 'd.attempts', 'd.last_error as lastError', 'o.id as eventId', 'd.subject'])
    .where('d.endpoint_id', '=', endpointId)
    .orderBy('d.id')
    .execute();
}
