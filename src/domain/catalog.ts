import {
  insertProduct,
  type NewProduct,
  type ProductPatch,
  updateProduct as updateRow,
} from '../db/repos/products.ts';
import { lockStock } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import { DuplicateSkuError, NotFoundError } from './errors.ts';
import type { ProductRecord } from './rules/records.ts';

export async function createProduct(tx: WriteTx, input: NewProduct): Promise<ProductRecord> {
  const product = await insertProduct(tx, input);
  if (!product) throw new DuplicateSkuError(input.sku);
  tx.record({ type: 'ProductCreated', productId: product.id });
  return product;
}

/**
 * Changing policy or cap changes what the storefront shows (status, backorderable) but never moves units:
 * a tighter cap does not evict anyone already waiting.
 */
export async function updateProduct(tx: WriteTx, id: number, patch: ProductPatch): Promise<ProductRecord> {
  // Checkouts read policy and cap under the stock row lock: take it, so none decides on the old rules.
  await lockStock(tx, [id]);
  const product = await updateRow(tx, id, patch);
  if (!product) throw new NotFoundError('Product');
  tx.record({ type: 'ProductUpdated', productId: product.id, changed: Object.keys(patch).sort() });
  return product;
}
