import { createProduct, updateProduct } from '../domain/catalog.ts';
import { DuplicateSkuError, NotFoundError } from '../domain/errors.ts';
import type { ProductRecord } from '../domain/rules/records.ts';
import {
  BACKORDER_POLICIES,
  customerCapInForce,
  MAX_PER_CUSTOMER_DEFAULT,
} from '../domain/rules/stock-rules.ts';
import { builder } from './builder.ts';
import { fromGlobalId, loadNodes, requireGlobalId } from './ids.ts';
import { pageByText } from './pagination.ts';
import { BOUNDS, badInput, optionalIntInRange, sku, text } from './validate.ts';

export const BackorderPolicy = builder.enumType('BackorderPolicy', {
  description: 'Whether customers may order the product when none is available.',
  values: BACKORDER_POLICIES,
});

export const Product = builder.objectRef<ProductRecord>('Product');

builder.node(Product, {
  description: 'Something the shop sells.',
  id: { resolve: (p) => p.id },
  loadMany: (ids, ctx) => loadNodes(ids, (id) => ctx.readers.product.load(id)),
  fields: (t) => ({
    sku: t.exposeString('sku'),
    name: t.exposeString('name'),
    backorderPolicy: t.field({ type: BackorderPolicy, resolve: (p) => p.backorderPolicy }),
    backorderLimit: t.exposeInt('backorderLimit', {
      nullable: true,
      description: 'Cap on units on backorder; null: no cap.',
    }),
    lowStockThreshold: t.exposeInt('lowStockThreshold', { nullable: true }),
    restockLeadTimeDays: t.exposeInt('restockLeadTimeDays', { nullable: true }),
    maxPerCustomer: t.exposeInt('maxPerCustomer', {
      nullable: true,
      description:
        "This product's own cap on the units one customer may hold (ordered, not yet shipped, less cancelled backorders); null: none of its own, the service-wide default applies (see customerLimit).",
    }),
    customerLimit: t.int({
      nullable: true,
      description:
        'The cap in force on the units one customer may hold of this product: maxPerCustomer, else the service-wide default (MAX_PER_CUSTOMER_DEFAULT); null: no cap. CustomerLimitError.limit names the same.',
      resolve: (p, _args, ctx) =>
        customerCapInForce(p.maxPerCustomer, ctx.maxPerCustomerDefault ?? MAX_PER_CUSTOMER_DEFAULT),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.createdAt }),
  }),
});

builder.queryFields((t) => ({
  product: t.field({
    type: Product,
    nullable: true,
    description: 'A product by global id or by sku (give exactly one).',
    args: {
      id: t.arg.id({ required: false }),
      sku: t.arg.string({ required: false }),
    },
    resolve: async (_root, args, ctx) => {
      if ((args.id == null) === (args.sku == null)) {
        throw badInput('Give either id or sku', 'id');
      }
      if (args.id != null) {
        const id = fromGlobalId(String(args.id), 'Product');
        return id === null ? null : ctx.readers.product.load(id);
      }
      return ctx.readers.productBySku.load(args.sku!);
    },
  }),
  products: t.connection({
    type: Product,
    description: 'The catalogue, ordered by sku.',
    resolve: (_root, args, ctx) =>
      pageByText(
        args,
        (page) => ctx.readers.listProducts(page),
        (p) => p.sku,
      ),
  }),
}));

const CreateProductInput = builder.inputType('CreateProductInput', {
  fields: (t) => ({
    sku: t.string(),
    name: t.string(),
    backorderPolicy: t.field({ type: BackorderPolicy, required: false, defaultValue: 'ALLOW' }),
    backorderLimit: t.int({ required: false }),
    lowStockThreshold: t.int({ required: false }),
    restockLeadTimeDays: t.int({ required: false }),
    maxPerCustomer: t.int({ required: false }),
  }),
});

const UpdateProductInput = builder.inputType('UpdateProductInput', {
  description: 'Only the fields given change; null clears a limit, threshold or lead time.',
  fields: (t) => ({
    id: t.id(),
    name: t.string({ required: false }),
    backorderPolicy: t.field({ type: BackorderPolicy, required: false }),
    backorderLimit: t.int({ required: false }),
    lowStockThreshold: t.int({ required: false }),
    restockLeadTimeDays: t.int({ required: false }),
    maxPerCustomer: t.int({ required: false }),
  }),
});

const CreateProductSuccess = builder.objectRef<{ product: ProductRecord }>('CreateProductSuccess').implement({
  fields: (t) => ({ product: t.field({ type: Product, resolve: (r) => r.product }) }),
});
const UpdateProductSuccess = builder.objectRef<{ product: ProductRecord }>('UpdateProductSuccess').implement({
  fields: (t) => ({ product: t.field({ type: Product, resolve: (r) => r.product }) }),
});

builder.mutationFields((t) => ({
  createProduct: t.field({
    type: CreateProductSuccess,
    authScopes: { staff: true },
    errors: { types: [DuplicateSkuError] },
    args: { input: t.arg({ type: CreateProductInput }) },
    resolve: async (_root, { input }, ctx) => ({
      product: await ctx.writer.run((tx) =>
        createProduct(tx, {
          sku: sku(input.sku),
          name: text('name', input.name, BOUNDS.name),
          backorderPolicy: input.backorderPolicy ?? 'ALLOW',
          backorderLimit:
            optionalIntInRange('backorderLimit', input.backorderLimit, 0, BOUNDS.counter) ?? null,
          lowStockThreshold:
            optionalIntInRange('lowStockThreshold', input.lowStockThreshold, 0, BOUNDS.counter) ?? null,
          restockLeadTimeDays:
            optionalIntInRange('restockLeadTimeDays', input.restockLeadTimeDays, 0, BOUNDS.leadTimeDays) ??
            null,
          maxPerCustomer:
            optionalIntInRange('maxPerCustomer', input.maxPerCustomer, 1, BOUNDS.counter) ?? null,
        }),
      ),
    }),
  }),
  updateProduct: t.field({
    type: UpdateProductSuccess,
    authScopes: { staff: true },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: UpdateProductInput }) },
    resolve: async (_root, { input }, ctx) => {
      const patch = {
        ...(input.name != null ? { name: text('name', input.name, BOUNDS.name) } : {}),
        ...(input.backorderPolicy != null ? { backorderPolicy: input.backorderPolicy } : {}),
        ...(input.backorderLimit !== undefined
          ? {
              backorderLimit:
                optionalIntInRange('backorderLimit', input.backorderLimit, 0, BOUNDS.counter) ?? null,
            }
          : {}),
        ...(input.lowStockThreshold !== undefined
          ? {
              lowStockThreshold:
                optionalIntInRange('lowStockThreshold', input.lowStockThreshold, 0, BOUNDS.counter) ?? null,
            }
          : {}),
        ...(input.restockLeadTimeDays !== undefined
          ? {
              restockLeadTimeDays:
                optionalIntInRange(
                  'restockLeadTimeDays',
                  input.restockLeadTimeDays,
                  0,
                  BOUNDS.leadTimeDays,
                ) ?? null,
            }
          : {}),
        ...(input.maxPerCustomer !== undefined
          ? {
              maxPerCustomer:
                optionalIntInRange('maxPerCustomer', input.maxPerCustomer, 1, BOUNDS.counter) ?? null,
            }
          : {}),
      };
      const id = requireGlobalId(input.id, 'Product');
      return { product: await ctx.writer.run((tx) => updateProduct(tx, id, patch)) };
    },
  }),
}));
