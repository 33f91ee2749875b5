import {
  availabilityStatus,
  availableUnits,
  canBackorder,
  remainingCapacity,
} from '../domain/availability.ts';
import type { ProductRecord, StockRecord } from '../domain/rules/records.ts';
import { builder } from './builder.ts';
import { Product } from './product.ts';
import { BOUNDS, intInRange } from './validate.ts';

interface AvailabilityShape {
  product: ProductRecord;
  stock: StockRecord;
}

const AvailabilityStatus = builder.enumType('AvailabilityStatus', {
  values: ['IN_STOCK', 'LOW_STOCK', 'BACKORDER', 'OUT_OF_STOCK'] as const,
});

const Availability = builder.objectRef<AvailabilityShape>('Availability').implement({
  description: 'What the storefront may tell anyone about a product, computed from one stock row.',
  fields: (t) => ({
    status: t.field({ type: AvailabilityStatus, resolve: (a) => availabilityStatus(a.product, a.stock) }),
    quantityAvailable: t.int({ resolve: (a) => availableUnits(a.stock) }),
    backorderable: t.boolean({
      description: 'A backorder of one unit would be accepted now.',
      resolve: (a) => canBackorder(a.product, a.stock, 1),
    }),
    queueLength: t.int({ resolve: (a) => a.stock.queueLength }),
    unitsOnBackorder: t.int({ resolve: (a) => a.stock.unitsOnBackorder }),
    remainingCapacity: t.int({
      nullable: true,
      description: 'Units that can still be backordered under the cap; null: no cap.',
      resolve: (a) => remainingCapacity(a.product, a.stock),
    }),
    nextRestockAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'expectedAt of the earliest open inbound shipment.',
      resolve: async (a, _args, ctx) =>
        (await ctx.readers.openInbound.load(a.product.id))[0]?.expectedAt ?? null,
    }),
    estimatedAvailableAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When an order of this many placed now would have all its units: now if available, else the ETA of a backorder for the rest; null if such a backorder would be refused.',
      args: { quantity: t.arg.int({ required: false, defaultValue: 1 }) },
      resolve: (a, args, ctx) =>
        ctx.readers.availabilityEta(
          a.product,
          intInRange('quantity', args.quantity ?? 1, 1, BOUNDS.orderLineQuantity),
          new Date(),
        ),
    }),
  }),
});

builder.objectField(Product, 'availability', (t) =>
  t.field({
    type: Availability,
    resolve: async (product, _args, ctx) => {
      const stock = await ctx.readers.stock.load(product.id);
      if (!stock) throw new Error(`product ${product.id} has no stock row`);
      return { product, stock };
    },
  }),
);
