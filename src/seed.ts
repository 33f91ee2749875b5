import { countProducts } from './db/repos/products.ts';
import type { Writer } from './db/transaction.ts';
import { createProduct } from './domain/catalog.ts';
import { scheduleInbound } from './domain/inbound.ts';
import { receiveStock } from './domain/stock.ts';
import type { Actor } from './domain/types.ts';

const SEEDER: Actor = { id: 'demo-seed', role: 'staff' };
const DAY = 86_400_000;

/**
 * A small catalogue that shows every state a storefront meets: in stock, low stock, sold out with a
 * shipment on its way (backorderable), and a product that may not be backordered. Only on an empty database.
 */
export async function seedDemoCatalogue(writer: Writer): Promise<boolean> {
  if ((await countProducts(writer.db)) > 0) return false;
  const base = { backorderLimit: null, lowStockThreshold: 5, restockLeadTimeDays: 14 };
  const mug = await createProduct(writer, {
    ...base,
    sku: 'DEMO-MUG',
    name: 'Stoneware mug',
    backorderPolicy: 'ALLOW',
  });
  await receiveStock(writer, SEEDER, { productId: mug.id, quantity: 120, inboundId: null });
  const tee = await createProduct(writer, {
    ...base,
    sku: 'DEMO-TEE',
    name: 'Organic cotton tee',
    backorderPolicy: 'ALLOW',
  });
  await receiveStock(writer, SEEDER, { productId: tee.id, quantity: 3, inboundId: null });
  const lamp = await createProduct(writer, {
    ...base,
    sku: 'DEMO-LAMP',
    name: 'Brass desk lamp',
    backorderPolicy: 'ALLOW',
    backorderLimit: 50,
  });
  await scheduleInbound(writer, {
    productId: lamp.id,
    quantity: 40,
    expectedAt: new Date(Date.now() + 10 * DAY),
  });
  await createProduct(writer, {
    ...base,
    sku: 'DEMO-POSTER',
    name: 'Limited print (no backorders)',
    backorderPolicy: 'DENY',
    restockLeadTimeDays: null,
  });
  return true;
}
