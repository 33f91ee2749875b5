import type { Updateable } from 'kysely';
import type { PageWindow, ProductRecord } from '../../domain/rules/records.ts';
import type { Executor, WriteTx } from '../transaction.ts';
import type { ProductTable } from '../types.ts';

const columns = [
  'id',
  'sku',
  'name',
  'backorder_policy as backorderPolicy',
  'backorder_limit as backorderLimit',
  'low_stock_threshold as lowStockThreshold',
  'restock_lead_time_days as restockLeadTimeDays',
  'max_per_customer as maxPerCustomer',
  'created_at as createdAt',
] as const;

export interface NewProduct {
  sku: string;
  name: string;
  backorderPolicy: 'ALLOW' | 'DENY';
  backorderLimit: number | null;
  lowStockThreshold: number | null;
  restockLeadTimeDays: number | null;
  maxPerCustomer?: number | null;
}

/** Inserts the product and its stock row; returns undefined when the sku is taken. */
export async function insertProduct(tx: WriteTx, p: NewProduct): Promise<ProductRecord | undefined> {
  const row = await tx.trx
    .insertInto('product')
    .values({
      sku: p.sku,
      name: p.name,
      backorder_policy: p.backorderPolicy,
      backorder_limit: p.backorderLimit,
      low_stock_threshold: p.lowStockThreshold,
      restock_lead_time_days: p.restockLeadTimeDays,
      max_per_customer: p.maxPerCustomer ?? null,
    })
    .onConflict((oc) => oc.column('sku').doNothing())
    .returning(columns)
    .executeTakeFirst();
  if (row) await tx.trx.insertInto('stock').values({ product_id: row.id }).execute();
  return row;
}

export type ProductPatch = Partial<Omit<NewProduct, 'sku'>>;

export async function updateProduct(
  tx: WriteTx,
  id: number,
  patch: ProductPatch,
): Promise<ProductRecord | undefined> {
  const set: Updateable<ProductTable> = { updated_at: new Date() };
  if (patch.name !== undefined) set.name = patch.name;
  if (patch.backorderPolicy !== undefined) set.backorder_policy = patch.backorderPolicy;
  if (patch.backorderLimit !== undefined) set.backorder_limit = patch.backorderLimit;
  if (patch.lowStockThreshold !== undefined) set.low_stock_threshold = patch.lowStockThreshold;
  if (patch.restockLeadTimeDays !== undefined) set.restock_lead_time_days = patch.restockLeadTimeDays;
  if (patch.maxPerCustomer !== undefined) set.max_per_customer = patch.maxPerCustomer;
  return tx.trx.updateTable('product').set(set).where('id', '=', id).returning(columns).executeTakeFirst();
}

export async function findProductsByIds(ex: Executor, ids: readonly number[]): Promise<ProductRecord[]> {
  if (ids.length === 0) return [];
  return ex
    .selectFrom('product')
    .select(columns)
    .where('id', '=', (eb) => eb.fn.any(eb.val([...ids])))
    .execute();
}

export async function findProductsBySkus(ex: Executor, skus: readonly string[]): Promise<ProductRecord[]> {
  if (skus.length === 0) return [];
  return ex
    .selectFrom('product')
    .select(columns)
    .where('sku', '=', (eb) => eb.fn.any(eb.val([...skus])))
    .execute();
}

/** The catalogue in sku order, keyset-paged by sku. */
export async function listProductsBySku(ex: Executor, page: PageWindow<string>): Promise<ProductRecord[]> {
  let q = ex.selectFrom('product').select(columns);
  if (page.after !== undefined) q = q.where('sku', '>', page.after);
  if (page.before !== undefined) q = q.where('sku', '<', page.before);
  return q
    .orderBy('sku', page.inverted ? 'desc' : 'asc')
    .limit(page.limit)
    .execute();
}

export async function countProducts(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('product')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
