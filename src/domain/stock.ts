import type { Allocation } from '../db/repos/backorders.ts';
import { lockInbound, updateInbound } from '../db/repos/inbound.ts';
import { lockStock } from '../db/repos/stock.ts';
import type { WriteTx } from '../db/transaction.ts';
import {
  InboundClosedError,
  InboundProductMismatchError,
  NotFoundError,
  StockBelowAllocatedError,
  TotalLimitError,
} from './errors.ts';
import { changeStock } from './queue.ts';
import type { ProductRecord, StockRecord } from './rules/records.ts';
import { inboundComplete, MAX_TOTAL, totalOverflow } from './rules/stock-rules.ts';
import type { Actor } from './types.ts';

export interface StockChangeResult {
  product: ProductRecord;
  stock: StockRecord;
  allocations: Allocation[];
}

async function lockOne(tx: WriteTx, productId: number) {
  const locked = (await lockStock(tx, [productId])).get(productId);
  if (!locked) throw new NotFoundError('Product');
  return locked;
}

/** Units arriving may not take onHand past what a count can show: refused before anything is written. */
function checkOnHandFits(stock: StockRecord, delta: number): void {
  const overflow = totalOverflow(stock, { ...stock, onHand: stock.onHand + delta });
  if (overflow) throw new TotalLimitError(stock.productId, overflow.total, MAX_TOTAL, overflow.remaining);
}

/**
 * Units arrive: onHand grows, the queue is served first, and with an inbound shipment the units count
 * against it (closing it once it is complete). Locks: the stock row, then the shipment row.
 */
export async function receiveStock(
  tx: WriteTx,
  actor: Actor,
  input: { productId: number; quantity: number; inboundId: number | null },
): Promise<StockChangeResult> {
  const { product, stock } = await lockOne(tx, input.productId);
  checkOnHandFits(stock, input.quantity);
  let reference: string | null = null;
  if (input.inboundId !== null) {
    const inbound = await lockInbound(tx, input.inboundId);
    if (!inbound) throw new NotFoundError('InboundShipment');
    if (inbound.productId !== product.id) throw new InboundProductMismatchError(product.id);
    if (inbound.status !== 'OPEN') throw new InboundClosedError(inbound.id, inbound.status);
    const received = inbound.quantityReceived + input.quantity;
    await updateInbound(tx, inbound.id, {
      quantityReceived: received,
      ...(inboundComplete({ quantity: inbound.quantity, quantityReceived: received })
        ? { status: 'RECEIVED' as const }
        : {}),
    });
    reference = `inbound:${inbound.id}`;
  }
  tx.record({
    type: 'StockReceived',
    productId: product.id,
    quantity: input.quantity,
    inboundId: input.inboundId,
  });
  const changed = await changeStock(
    tx,
    actor,
    { product, stock },
    {
      movements: [{ kind: 'RECEIPT', quantity: input.quantity, reference }],
    },
  );
  return { product, stock: changed.stock, allocations: changed.fill?.allocations ?? [] };
}

/** A count correction. It may never take onHand below what is promised to orders; a gain serves the queue. */
export async function adjustStock(
  tx: WriteTx,
  actor: Actor,
  input: { productId: number; delta: number; reason: string },
): Promise<StockChangeResult> {
  const { product, stock } = await lockOne(tx, input.productId);
  if (stock.onHand + input.delta < stock.allocated) {
    throw new StockBelowAllocatedError(product.id, stock.onHand, stock.allocated, input.delta);
  }
  checkOnHandFits(stock, input.delta);
  tx.record({ type: 'StockAdjusted', productId: product.id, delta: input.delta });
  const changed = await changeStock(
    tx,
    actor,
    { product, stock },
    {
      movements: [{ kind: 'ADJUSTMENT', quantity: input.delta, reason: input.reason }],
    },
  );
  return { product, stock: changed.stock, allocations: changed.fill?.allocations ?? [] };
}
