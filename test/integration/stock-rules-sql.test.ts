import { type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerTotals } from '../../src/db/repos/stock.ts';
import {
  afterCheckoutLine,
  afterFill,
  BACKORDER_STATUSES,
  type BackorderStatus,
  CANCELLED_BACKORDER_STATUS,
  cancelledSql,
  checkoutQueueSetSql,
  counterSetSql,
  countersOf,
  filledSql,
  fillQueueSetSql,
  inboundComplete,
  inboundCompleteSql,
  isFilled,
  isQueued,
  kindsMoving,
  MOVEMENT_EFFECTS,
  MOVEMENT_KINDS,
  missingSql,
  missingUnits,
  ORDER_STATUSES,
  orderHasStatus,
  orderStatus,
  orderStatusSql,
  placeAtTail,
  queued,
  queuePositionSql,
  queueWindowSql,
  rankQueue,
  statusAfterShippingSql,
  unitsAheadSql,
} from '../../src/domain/rules/stock-rules.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * The rules' SQL fragments against their TypeScript twins, evaluated by Postgres itself: whatever a
 * statement decides set-wise must be what the code decides in memory.
 */

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 2 });
  await sql`CREATE TABLE probe_counters (kind text PRIMARY KEY, on_hand int NOT NULL, allocated int NOT NULL)`.execute(
    t.db,
  );
});
afterAll(() => t?.drop());

const int = (n: number) => sql<number>`${n}::int`;

describe('movement effects on the stock counters', () => {
  it('every movement kind moves at least one counter, in TypeScript and in SQL', () => {
    for (const kind of MOVEMENT_KINDS) {
      expect(MOVEMENT_EFFECTS[kind].onHand || MOVEMENT_EFFECTS[kind].allocated, kind).toBe(true);
      expect(kindsMoving('onHand').includes(kind) || kindsMoving('allocated').includes(kind), kind).toBe(
        true,
      );
      expect(counterSetSql(kind, int(1)).compile(t.db).sql, kind).toMatch(/=/);
    }
  });

  for (const kind of MOVEMENT_KINDS) {
    for (const quantity of [7, -3]) {
      it(`${kind} by ${quantity}: the SQL SET moves the counters as countersOf does`, async () => {
        const start = { onHand: 100, allocated: 40 };
        await sql`DELETE FROM probe_counters`.execute(t.db);
        await sql`INSERT INTO probe_counters VALUES (${kind}, ${start.onHand}, ${start.allocated})`.execute(
          t.db,
        );
        const delta = countersOf([{ kind, quantity }]);
        const expected = {
          onHand: start.onHand + delta.onHand,
          allocated: start.allocated + delta.allocated,
        };
        // Unqualified, as the fill writes it.
        const plain = await sql<{ onHand: number; allocated: number }>`
          UPDATE probe_counters SET ${counterSetSql(kind, int(quantity))} WHERE kind = ${kind}
          RETURNING on_hand AS "onHand", allocated`.execute(t.db);
        expect(plain.rows[0]).toEqual(expected);
        // Through an alias, as the checkout writes it: applied once more, the same delta again.
        const aliased = await sql<{ onHand: number; allocated: number }>`
          UPDATE probe_counters p SET ${counterSetSql(kind, int(quantity), 'p')} WHERE p.kind = ${kind}
          RETURNING p.on_hand AS "onHand", p.allocated`.execute(t.db);
        expect(aliased.rows[0]).toEqual({
          onHand: expected.onHand + delta.onHand,
          allocated: expected.allocated + delta.allocated,
        });
      });
    }
  }

  it('the ledger sums to the counters countersOf gives, for movements of every kind', async () => {
    const { rows } = await sql<{ id: number }>`
      INSERT INTO product (sku, name) VALUES ('RULES-LEDGER', 'Ledger probe') RETURNING id`.execute(t.db);
    const productId = rows[0]!.id;
    const movements = MOVEMENT_KINDS.map((kind, i) => ({ kind, quantity: (i + 2) * (i % 2 ? -1 : 1) }));
    for (const m of movements) {
      await sql`INSERT INTO stock_movement (product_id, kind, quantity, actor)
        VALUES (${productId}, ${m.kind}, ${m.quantity}, 'test')`.execute(t.db);
    }
    expect(await ledgerTotals(t.db, productId)).toEqual(countersOf(movements));
  });
});

async function perStatus(predicate: RawBuilder<unknown>): Promise<Map<BackorderStatus, unknown>> {
  const { rows } = await sql<{ status: BackorderStatus; value: unknown }>`
    SELECT b.status, ${predicate} AS value
    FROM unnest(${[...BACKORDER_STATUSES]}::text[]) AS b(status)`.execute(t.db);
  return new Map(rows.map((r) => [r.status, r.value]));
}

describe('backorder statuses', () => {
  it('queued() holds in Postgres exactly for the statuses isQueued accepts', async () => {
    const plain = await perStatus(queued());
    const aliased = await perStatus(queued('b'));
    for (const status of BACKORDER_STATUSES) {
      expect(plain.get(status), status).toBe(isQueued(status));
      expect(aliased.get(status), status).toBe(isQueued(status));
    }
  });

  it('filledSql and cancelledSql agree with isFilled and the cancelled status', async () => {
    const filled = await perStatus(filledSql('b'));
    const cancelled = await perStatus(cancelledSql('b'));
    for (const status of BACKORDER_STATUSES) {
      expect(filled.get(status), status).toBe(isFilled(status));
      expect(cancelled.get(status), status).toBe(status === CANCELLED_BACKORDER_STATUS);
    }
  });

  it('shipping maps every status to a status: a fully allocated one ships unless cancelled', async () => {
    const { rows } = await sql<{ before: BackorderStatus; after: string }>`
      SELECT b.status AS before, ${statusAfterShippingSql('b')} AS after
      FROM (SELECT s AS status, 4 AS quantity, 4 AS quantity_allocated
            FROM unnest(${[...BACKORDER_STATUSES]}::text[]) AS s) b`.execute(t.db);
    expect(rows.map((r) => r.before).sort()).toEqual([...BACKORDER_STATUSES].sort());
    for (const { before, after } of rows) {
      expect(BACKORDER_STATUSES as readonly string[], before).toContain(after);
      expect(after, before).toBe(before === CANCELLED_BACKORDER_STATUS ? before : 'SHIPPED');
    }
  });
});

describe('inbound completion', () => {
  it('inboundCompleteSql agrees with inboundComplete, over-receipt included', async () => {
    const cases = [
      { quantity: 10, quantityReceived: 0 },
      { quantity: 10, quantityReceived: 9 },
      { quantity: 10, quantityReceived: 10 },
      { quantity: 10, quantityReceived: 12 },
    ];
    const { rows } = await sql<{ complete: boolean }>`
      SELECT ${inboundCompleteSql('i')} AS complete
      FROM jsonb_to_recordset(${JSON.stringify(cases.map((c) => ({ q: c.quantity, r: c.quantityReceived })))}::jsonb)
        AS x(q int, r int)
      CROSS JOIN LATERAL (SELECT x.q AS quantity, x.r AS quantity_received) i`.execute(t.db);
    expect(rows.map((r) => r.complete)).toEqual(cases.map(inboundComplete));
    expect(cases.map(inboundComplete)).toEqual([false, false, true, true]);
  });
});

describe('queue rank', () => {
  // Two products' queues, interleaved, in id (queue) order.
  const backorders = [
    { id: 1, productId: 1, quantity: 5, quantityAllocated: 2 },
    { id: 2, productId: 2, quantity: 3, quantityAllocated: 0 },
    { id: 3, productId: 1, quantity: 4, quantityAllocated: 0 },
    { id: 4, productId: 1, quantity: 1, quantityAllocated: 0 },
    { id: 5, productId: 2, quantity: 6, quantityAllocated: 5 },
  ];
  const source = sql`(SELECT * FROM jsonb_to_recordset(${JSON.stringify(
    backorders.map((b) => ({
      id: b.id,
      product_id: b.productId,
      quantity: b.quantity,
      quantity_allocated: b.quantityAllocated,
    })),
  )}::jsonb) AS x(id bigint, product_id bigint, quantity int, quantity_allocated int))`;

  function expectedRanks() {
    const ranks = new Map<number, ReturnType<typeof rankQueue>[number]>();
    for (const productId of [1, 2]) {
      const queue = backorders.filter((b) => b.productId === productId);
      for (const [i, place] of rankQueue(queue).entries()) ranks.set(queue[i]!.id, place);
    }
    return ranks;
  }

  it('the SQL window over every queue ranks as rankQueue does', async () => {
    const { rows } = await sql<{ id: number; position: number; unitsAhead: number; missing: number }>`
      SELECT b.id, (${queuePositionSql()})::int AS position, (${unitsAheadSql('b')})::int AS "unitsAhead",
        ${missingSql('b')} AS missing
      FROM ${source} b
      WINDOW w AS ${queueWindowSql('b', true)}
      ORDER BY b.id`.execute(t.db);
    const expected = expectedRanks();
    expect(rows).toEqual(backorders.map((b) => ({ id: b.id, ...expected.get(b.id) })));
  });

  it('the SQL window over one queue ranks as rankQueue does', async () => {
    const { rows } = await sql<{ id: number; position: number; unitsAhead: number; missing: number }>`
      SELECT id, (${queuePositionSql()})::int AS position, (${unitsAheadSql()})::int AS "unitsAhead",
        ${missingSql()} AS missing
      FROM ${source} backorder
      WHERE product_id = 1
      WINDOW w AS ${queueWindowSql()}
      ORDER BY id`.execute(t.db);
    const expected = expectedRanks();
    expect(rows).toEqual(
      backorders.filter((b) => b.productId === 1).map((b) => ({ id: b.id, ...expected.get(b.id) })),
    );
  });

  it('a backorder joining the tail takes the place rankQueue gives the last one', () => {
    const queue = backorders.filter((b) => b.productId === 1);
    const ahead = queue.slice(0, -1);
    const joining = queue.at(-1)!;
    const place = placeAtTail(
      { length: ahead.length, units: ahead.reduce((sum, b) => sum + missingUnits(b), 0) },
      missingUnits(joining),
    );
    expect(place).toEqual(rankQueue(queue).at(-1));
  });
});

describe('order status', () => {
  it('orderStatusSql and orderHasStatus agree with orderStatus for every open, waiting and shipped order', async () => {
    const [product] = (
      await sql<{
        id: number;
      }>`INSERT INTO product (sku, name) VALUES ('RULES-ORDER', 'Rules') RETURNING id`.execute(t.db)
    ).rows;
    const queuedStatus = BACKORDER_STATUSES.find(isQueued)!;
    let n = 0;
    for (const open of [true, false]) {
      for (const waiting of [true, false]) {
        for (const shipped of [true, false]) {
          n++;
          const [order] = (
            await sql<{
              id: number;
            }>`INSERT INTO customer_order (customer_id, idempotency_key, request_hash, open)
              VALUES ('rules', ${`order-${n}`}, 'h', ${open}) RETURNING id`.execute(t.db)
          ).rows;
          const [line] = (
            await sql<{ id: number }>`INSERT INTO order_line
              (order_id, position, product_id, quantity, quantity_taken, quantity_shipped)
              VALUES (${order!.id}, 1, ${product!.id}, 2, ${shipped ? 1 : 0}, ${shipped ? 1 : 0})
              RETURNING id`.execute(t.db)
          ).rows;
          if (waiting) {
            await sql`INSERT INTO backorder (order_id, order_line_id, product_id, customer_id, quantity, status)
              VALUES (${order!.id}, ${line!.id}, ${product!.id}, 'rules', 1, ${queuedStatus})`.execute(t.db);
          }
          const expected = orderStatus({ open, waiting, shipped });
          const where = sql`FROM customer_order o WHERE o.id = ${order!.id}`;
          const { rows } = await sql<{ status: string }>`SELECT ${orderStatusSql} AS status ${where}`.execute(
            t.db,
          );
          expect(rows[0]!.status, `open ${open}, waiting ${waiting}, shipped ${shipped}`).toBe(expected);
          for (const status of ORDER_STATUSES) {
            const has = await sql<{ has: boolean }>`SELECT ${orderHasStatus(status)} AS has ${where}`.execute(
              t.db,
            );
            expect(
              has.rows[0]!.has,
              `${status} for open ${open}, waiting ${waiting}, shipped ${shipped}`,
            ).toBe(status === expected);
          }
        }
      }
    }
  });
});

describe('queue aggregates', () => {
  const start = { onHand: 100, allocated: 40, queueLength: 12, unitsOnBackorder: 90 };
  const probe = async (set: RawBuilder<unknown>, alias?: string) => {
    await sql`DROP TABLE IF EXISTS probe_queue`.execute(t.db);
    await sql`CREATE TABLE probe_queue (queue_length int NOT NULL, units_on_backorder int NOT NULL)`.execute(
      t.db,
    );
    await sql`INSERT INTO probe_queue VALUES (${start.queueLength}, ${start.unitsOnBackorder})`.execute(t.db);
    const table = alias ? sql.raw(`probe_queue ${alias}`) : sql.raw('probe_queue');
    const { rows } = await sql<{ queueLength: number; unitsOnBackorder: number }>`
      UPDATE ${table} SET ${set}
      RETURNING queue_length AS "queueLength", units_on_backorder AS "unitsOnBackorder"`.execute(t.db);
    return rows[0];
  };

  for (const line of [
    { taken: 3, rest: 0 },
    { taken: 0, rest: 5 },
    { taken: 2, rest: 4 },
  ]) {
    it(`a checkout line taking ${line.taken} and leaving ${line.rest}: the SQL moves the queue as afterCheckoutLine does`, async () => {
      const expected = afterCheckoutLine(start, line);
      const queued = int(line.rest > 0 ? 1 : 0);
      expect(await probe(checkoutQueueSetSql({ queued, rest: int(line.rest) }, 'q'), 'q')).toEqual({
        queueLength: expected.queueLength,
        unitsOnBackorder: expected.unitsOnBackorder,
      });
    });
  }

  for (const fill of [
    { units: 7, completed: 0 },
    { units: 30, completed: 4 },
  ]) {
    it(`a fill of ${fill.units} completing ${fill.completed}: the SQL moves the queue as afterFill does`, async () => {
      const expected = afterFill(start, fill);
      expect(
        await probe(fillQueueSetSql({ completed: int(fill.completed), units: int(fill.units) })),
      ).toEqual({
        queueLength: expected.queueLength,
        unitsOnBackorder: expected.unitsOnBackorder,
      });
    });
  }
});
