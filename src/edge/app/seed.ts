import { countProducts } from '../../db/repos/products.ts';
import type { Writer } from '../../db/transaction.ts';
import { createProduct } from '../../domain/catalog.ts';
import { scheduleInbound } from '../../domain/inbound.ts';
import { receiveStock } from '../../domain/stock.ts';
import type { Actor } from '../../domain/types.ts';

const SEEDER: Actor = { id: 'demo-seed', role: 'staff' };
const DAY = 86_400_000;

/**
 * A small catalogue that shows every state a storefront meets: in stock, low stock, sold out with a
 * shipment on its way (backorderable), and a product that may not be backordered. Only on an empty
 * database, and all in one transaction: a catalogue half seeded never shows.
 */
export async function seedDemoCatalogue(writer: Writer): Promise<boolean> {
  if ((await countProducts(writer.db)) > 0) return false;
  await writer.run(async (tx) => {
    const base = { backorderLimit: null, lowStockThreshold: 5, restockLeadTimeDays: 14 };
    const mug = await createProduct(tx, {
      ...base,
      sku: 'DEMO-MUG',
      name: 'Stoneware mug',
      backorderPolicy: 'ALLOW',
    });
    await receiveStock(tx, SEEDER, { productId: mug.id, quantity: 120, inboundId: null });
    const tee = await createProduct(tx, {
      ...base,
      sku: 'DEMO-TEE',
      name: 'Organic cotton tee',
      backorderPolicy: 'ALLOW',
    });
    await receiveStock(tx, SEEDER, { productId: tee.id, quantity: 3, inboundId: null });
    const lamp = await createProduct(tx, {
      ...base,
      sku: 'DEMO-LAMP',
      name: 'Brass desk lamp',
      backorderPolicy: 'ALLOW',
      backorderLimit: 50,
    });
    await scheduleInbound(tx, {
      productId: lamp.id,
      quantity: 40,
      expectedAt: new Date(Date.now() + 10 * DAY),
    });
    await createProduct(tx, {
      ...base,
      sku: 'DEMO-POSTER',
      name: 'Limited print (no backorders)',
      backorderPolicy: 'DENY',
      restockLeadTimeDays: null,
    });
  });
  return true;
}
