import { availabilityStatus, availableUnits, canBackorder } from '../../domain/availability.ts';
import type { BackorderRecord } from '../../domain/rules/records.ts';
import { isQueued } from '../../domain/rules/stock-rules.ts';
import { globalId } from '../../read/global-id.ts';
import type { Readers } from '../../read/readers.ts';

/** The full state of a backorder, as a webhook carries it: enough to act without calling back. */
export interface BackorderState {
  id: string;
  orderId: string;
  productId: string;
  customerId: string;
  status: BackorderRecord['status'];
  quantity: number;
  quantityAllocated: number;
  quantityShipped: number;
  queuePosition: number | null;
  unitsAhead: number | null;
  estimatedAvailableAt: string | null;
  createdAt: string;
}

export interface ProductState {
  id: string;
  sku: string;
  name: string;
  availability: {
    status: string;
    quantityAvailable: number;
    backorderable: boolean;
    queueLength: number;
    unitsOnBackorder: number;
    nextRestockAt: string | null;
  };
}

export interface OrderState {
  id: string;
  customerId: string;
  status: string;
  createdAt: string;
  lines: { productId: string; quantity: number; quantityAllocated: number; quantityShipped: number }[];
}

export async function backorderState(
  readers: Readers,
  id: number,
  now: Date,
): Promise<BackorderState | null> {
  const b = await readers.backorder.load(id);
  if (!b) return null;
  const rank = isQueued(b.status) ? await readers.queueRank.load(id) : null;
  const eta = rank ? await readers.backorderEta(b, now) : null;
  return {
    id: globalId('Backorder', b.id),
    orderId: globalId('Order', b.orderId),
    productId: globalId('Product', b.productId),
    customerId: b.customerId,
    status: b.status,
    quantity: b.quantity,
    quantityAllocated: b.quantityAllocated,
    quantityShipped: b.quantityShipped,
    queuePosition: rank?.position ?? null,
    unitsAhead: rank?.unitsAhead ?? null,
    estimatedAvailableAt: eta?.toISOString() ?? null,
    createdAt: b.createdAt.toISOString(),
  };
}

export async function productState(readers: Readers, id: number): Promise<ProductState | null> {
  const [product, stock, inbound] = await Promise.all([
    readers.product.load(id),
    readers.stock.load(id),
    readers.openInbound.load(id),
  ]);
  if (!product || !stock) return null;
  return {
    id: globalId('Product', product.id),
    sku: product.sku,
    name: product.name,
    availability: {
      status: availabilityStatus(product, stock),
      quantityAvailable: availableUnits(stock),
      backorderable: canBackorder(product, stock, 1),
      queueLength: stock.queueLength,
      unitsOnBackorder: stock.unitsOnBackorder,
      nextRestockAt: inbound[0]?.expectedAt.toISOString() ?? null,
    },
  };
}

export async function orderState(readers: Readers, id: number): Promise<OrderState | null> {
  const [order, lines] = await Promise.all([readers.order.load(id), readers.orderLines.load(id)]);
  if (!order) return null;
  return {
    id: globalId('Order', order.id),
    customerId: order.customerId,
    status: order.status,
    createdAt: order.createdAt.toISOString(),
    lines: lines.map((l) => ({
      productId: globalId('Product', l.productId),
      quantity: l.quantity,
      quantityAllocated: l.quantityAllocated,
      quantityShipped: l.quantityShipped,
    })),
  };
}
