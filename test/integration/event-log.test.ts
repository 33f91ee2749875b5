import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as payloadVersion from '../../migrations/2026-12-07T00-00_event_payload_version.ts';
import { latestEventSeq, readEventsAfter } from '../../src/db/repos/changes.ts';
import {
  EVENT_PAYLOAD_VERSION,
  eventOfPayload,
  UnknownEventVersionError,
} from '../../src/domain/rules/domain-events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const payloadAt = async (seq: number) =>
  (await t.db.selectFrom('domain_event').select('payload').where('seq', '=', seq).executeTakeFirstOrThrow())
    .payload;

describe('stored event payloads carry their version', () => {
  it('writes the version into every payload, and reads the event back without it', async () => {
    const before = await latestEventSeq(t.db);
    await t.writer.run(async (tx) => {
      tx.record({ type: 'StockAdjusted', productId: 7, delta: 2 });
      tx.record({ type: 'NotificationsRead', customerId: "o'brien", count: 1 });
    });
    const stored = await readEventsAfter(t.db, before, 10);
    expect(stored.map((s) => s.event)).toEqual([
      { type: 'StockAdjusted', productId: 7, delta: 2 },
      { type: 'NotificationsRead', customerId: "o'brien", count: 1 },
    ]);
    expect(await payloadAt(stored[0]!.seq)).toEqual({
      type: 'StockAdjusted',
      productId: 7,
      delta: 2,
      v: EVENT_PAYLOAD_VERSION,
    });
  });

  it('refuses a version it does not know, naming the row, rather than misreading it', async () => {
    const before = await latestEventSeq(t.db);
    await sql`INSERT INTO domain_event (type, product_ids, payload)
      VALUES ('StockAdjusted', '{7}', '{"type":"StockAdjusted","productId":7,"delta":1,"v":99}')`.execute(
      t.db,
    );
    const error = await readEventsAfter(t.db, before, 10).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(UnknownEventVersionError);
    expect(error).toMatchObject({ seq: before + 1, version: 99 });
    await sql`DELETE FROM domain_event WHERE seq > ${before}`.execute(t.db);
  });

  it('reads a row from before versioning as the first version, and the migration marks such rows', async () => {
    expect(eventOfPayload(1, { type: 'ProductCreated', productId: 3 })).toEqual({
      type: 'ProductCreated',
      productId: 3,
    });
    const { rows } = await sql<{ seq: number }>`INSERT INTO domain_event (type, product_ids, payload)
      VALUES ('ProductCreated', '{3}', '{"type":"ProductCreated","productId":3}') RETURNING seq`.execute(
      t.db,
    );
    await payloadVersion.up(t.db);
    expect(await payloadAt(rows[0]!.seq)).toEqual({ type: 'ProductCreated', productId: 3, v: 1 });
  });
});
