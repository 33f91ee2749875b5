import { sql } from 'kysely';
import type {
  MovementKindValue,
  MovementRecord,
  PageWindow,
  ProductRecord,
  StockRecord,
} from '../../domain/rules/records.ts';
import { countersOf, kindsMoving } from '../../domain/rules/stock-rules.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import { keysetPage } from './keyset.ts';

const stockColumns = [
  'product_id as productId',
  'on_hand as onHand',
  'allocated',
  'queue_length as queueLength',
  'units_on_backorder as unitsOnBackorder',
] as const;

export async function findStockByProductIds(ex: Executor, ids: readonly number[]): Promise<StockRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('stock')
    .select(stockColumns)
    .where('product_id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export interface LockedStock {
  product: ProductRecord;
  stock: StockRecord;
}

/**
 * Locks the stock rows of these products, always in product id order so that writers touching several
 * products never deadlock, and reads each product's policy alongside in the same round trip.
 */
export async function lockStock(
  tx: WriteTx,
  productIds: readonly number[],
): Promise<Map<number, LockedStock>> {
  const ids = [...new Set(productIds)].sort((a, b) => a - b);
  const rows = await tx.trx
    .selectFrom('stock as s')
    .innerJoin('product as p', 'p.id', 's.product_id')
    .select([
      's.product_id as productId',
      's.on_hand as onHand',
      's.allocated',
      's.queue_length as queueLength',
      's.units_on_backorder as unitsOnBackorder',
      'p.sku',
      'p.name',
      'p.backorder_policy as backorderPolicy',
      'p.backorder_limit as backorderLimit',
      'p.low_stock_threshold as lowStockThreshold',
      'p.restock_lead_time_days as restockLeadTimeDays',
      'p.max_per_customer as maxPerCustomer',
      'p.created_at as createdAt',
    ])
    .where('s.product_id', '=', (eb) => eb.fn.any(eb.val(ids)))
    .orderBy('s.product_id')
    .forUpdate('s')
    .execute();
  const locked = new Map<number, LockedStock>();
  for (const r of rows) {
    locked.set(r.productId, {
      product: {
        id: r.productId,
        sku: r.sku,
        name: r.name,
        backorderPolicy: r.backorderPolicy,
        backorderLimit: r.backorderLimit,
        lowStockThreshold: r.lowStockThreshold,
        restockLeadTimeDays: r.restockLeadTimeDays,
        maxPerCustomer: r.maxPerCustomer,
        createdAt: r.createdAt,
      },
      stock: {
        productId: r.productId,
        onHand: r.onHand,
        allocated: r.allocated,
        queueLength: r.queueLength,
        unitsOnBackorder: r.unitsOnBackorder,
      },
    });
  }
  return locked;
}

export interface NewMovement {
  productId: number;
  kind: MovementKindValue;
  quantity: number;
  reason?: string | null;
  reference?: string | null;
  actor: string;
}

export interface StockChange {
  productId: number;
  /** Ledger rows to append (zero quantities are skipped). */
  movements: readonly NewMovement[];
  /** What the queue's own counters move by (none when omitted); on hand and allocated follow the movements. */
  queue?: { length: number; units: number };
}

/**
 * Appends ledger rows and moves the (already locked) stock counters, for any number of products, in one
 * statement; returns the stock rows as they now are.
 */
export async function applyStockChanges(
  tx: WriteTx,
  changes: readonly StockChange[],
): Promise<StockRecord[]> {
  if (changes.length === 0) return [];
  const movements = JSON.stringify(
    changes.flatMap((c) =>
      c.movements
        .filter((m) => m.quantity !== 0)
        .map((m) => ({
          product_id: m.productId,
          kind: m.kind,
          quantity: m.quantity,
          reason: m.reason ?? null,
          reference: m.reference ?? null,
          actor: m.actor,
        })),
    ),
  );
  const deltas = JSON.stringify(
    changes.map((c) => {
      const { onHand, allocated } = countersOf(c.movements);
      return {
        product_id: c.productId,
        on_hand: onHand,
        allocated,
        queue_length: c.queue?.length ?? 0,
        units_on_backorder: c.queue?.units ?? 0,
      };
    }),
  );
  const { rows } = await sql<StockRecord>`
    WITH ledger AS (
      INSERT INTO stock_movement (product_id, kind, quantity, reason, reference, actor)
      SELECT product_id, kind, quantity, reason, reference, actor
      FROM jsonb_to_recordset(${movements}::jsonb)
        AS m(product_id bigint, kind text, quantity int, reason text, reference text, actor text)
      RETURNING id
    )
    UPDATE stock s SET
      on_hand = s.on_hand + d.on_hand,
      allocated = s.allocated + d.allocated,
      queue_length = s.queue_length + d.queue_length,
      units_on_backorder = s.units_on_backorder + d.units_on_backorder
    FROM jsonb_to_recordset(${deltas}::jsonb)
      AS d(product_id bigint, on_hand int, allocated int, queue_length int, units_on_backorder int)
    WHERE s.product_id = d.product_id
    RETURNING s.product_id AS "productId", s.on_hand AS "onHand", s.allocated,
      s.queue_length AS "queueLength", s.units_on_backorder AS "unitsOnBackorder"
  `.execute(tx.trx);
  return rows;
}

/** The ledger of one product, newest first, keyset-paged by movement id. */
export async function listMovements(
  ex: Executor,
  productId: number,
  page: PageWindow<number>,
): Promise<MovementRecord[]> {
  return ex
    .selectFrom('stock_movement')
    .select([
      'id',
      'product_id as productId',
      'kind',
      'quantity',
      'reason',
      'reference',
      'actor',
      'created_at as createdAt',
    ])
    .where('product_id', '=', productId)
    .$call(keysetPage(page, true))
    .execute();
}

/** What the ledger says the counters must be: the reconciliation check. */
export async function ledgerTotals(
  ex: Executor,
  productId: number,
): Promise<{ onHand: number; allocated: number }> {
  const { rows } = await sql<{ onHand: number; allocated: number }>`
    SELECT
      coalesce(sum(quantity) FILTER (WHERE kind = ANY(${kindsMoving('onHand')})), 0)::int AS "onHand",
      coalesce(sum(quantity) FILTER (WHERE kind = ANY(${kindsMoving('allocated')})), 0)::int AS allocated
    FROM stock_movement WHERE product_id = ${productId}
  `.execute(ex);
  return rows[0] ?? { onHand: 0, allocated: 0 };
}
