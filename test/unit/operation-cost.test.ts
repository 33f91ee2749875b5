import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationCost } from '../../src/edge/limits/operation-cost.ts';
import { loadConfig } from '../../src/edge/settings/config.ts';
import {
  DEFAULT_COST_BUDGETS,
  MAX_TOKENS_SETTING,
  type Role,
} from '../../src/edge/settings/document-limits.ts';
import { defaultFieldCost } from '../../src/schema/field-cost.ts';
import { schema } from '../../src/schema/index.ts';

/** The contract's operations (test/operations holds the same files as ../shared/contract). */
const OPERATIONS = path.resolve(import.meta.dirname, '../operations');

/** Who may send each file's operations. */
const SENDERS: Record<string, Role[]> = {
  storefront: ['anonymous', 'customer'],
  customer: ['customer'],
  staff: ['staff'],
};

/** The largest inputs the contract allows: full pages, the largest receipt and adjustment. */
const ID = 'UHJvZHVjdDox';
const LARGEST: Record<string, Record<string, unknown>> = {
  PlaceOrder: {
    input: {
      idempotencyKey: 'k',
      acceptBackorder: true,
      lines: Array.from({ length: 50 }, () => ({ productId: ID, quantity: 100_000 })),
    },
  },
  CreateProduct: { input: { sku: 'S', name: 'N' } },
  UpdateProduct: { input: { id: ID } },
  ScheduleInbound: { input: { productId: ID, quantity: 1_000_000, expectedAt: '2030-01-01T00:00:00Z' } },
  UpdateInbound: { input: { id: ID, quantity: 1_000_000 } },
  ReceiveStock: { input: { productId: ID, quantity: 1_000_000 } },
  AdjustStock: { input: { productId: ID, delta: 1_000_000, reason: 'r' } },
};

function variablesFor(operation: OperationDefinitionNode): Record<string, unknown> {
  const name = operation.name?.value ?? '';
  if (LARGEST[name]) return LARGEST[name];
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const variable = definition.variable.name.value;
    if (variable === 'first') variables.first = 100;
    else if (variable === 'id' || variable === 'productId') variables[variable] = ID;
    else if (variable === 'sku') variables.sku = 'SKU-1';
  }
  return variables;
}

const contextOf = (role: Role) => ({ viewer: role === 'anonymous' ? null : { id: 'x', role } });

function costOf(
  source: string,
  operationName: string | undefined,
  variables: Record<string, unknown>,
  role: Role,
) {
  return operationCost({
    schema,
    document: parse(source),
    operationName,
    variableValues: variables,
    contextValue: contextOf(role),
  });
}

const contract = Object.entries(SENDERS).flatMap(([file, roles]) => {
  const source = readFileSync(path.join(OPERATIONS, `${file}.graphql`), 'utf8');
  return parse(source)
    .definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .flatMap((operation) =>
      roles.map((role) => ({
        file,
        role,
        name: operation.name!.value,
        source,
        variables: variablesFor(operation),
      })),
    );
});

describe('the default budgets admit every contract operation at its largest', () => {
  it.each(contract)('$file $name as $role', ({ role, name, source, variables }) => {
    const cost = costOf(source, name, variables, role);
    expect(cost).not.toBeNull();
    expect(cost!).toBeGreaterThan(0);
    expect(cost!).toBeLessThanOrEqual(DEFAULT_COST_BUDGETS[role]);
  });

  it.each(Object.keys(DEFAULT_COST_BUDGETS) as Role[])(
    "graphql-js's introspection query as %s costs nothing",
    (role) => {
      expect(costOf(getIntrospectionQuery(), 'IntrospectionQuery', {}, role)).toBe(0);
    },
  );
});

describe('the cost follows the variables, not the document', () => {
  const catalog = readFileSync(path.join(OPERATIONS, 'storefront.graphql'), 'utf8');

  it('a connection multiplies its selection by first', () => {
    const one = costOf(catalog, 'Catalog', { first: 1 }, 'anonymous')!;
    const hundred = costOf(catalog, 'Catalog', { first: 100 }, 'anonymous')!;
    // products(1) + first × (edges, cursor, node, id, sku, name, availability, status, quantity, pageInfo…)
    expect(hundred - 1).toBe(100 * (one - 1));
  });

  it("a receipt's allocations are priced by the units it receives, also with a shared fragment", () => {
    const staff = readFileSync(path.join(OPERATIONS, 'staff.graphql'), 'utf8');
    const small = costOf(staff, 'ReceiveStock', { input: { productId: ID, quantity: 10 } }, 'staff')!;
    const large = costOf(staff, 'ReceiveStock', { input: { productId: ID, quantity: 1000 } }, 'staff')!;
    expect(large - small).toBe(990 * 5);
    const twice = `
      mutation { a: receiveStock(input: { productId: "${ID}", quantity: 1 }) { ...R }
                 b: receiveStock(input: { productId: "${ID}", quantity: 1000 }) { ...R } }
      fragment R on ReceiveStockResult { ... on ReceiveStockSuccess { allocations { quantity } } }`;
    // Every receipt of the operation is priced at the largest units it moves: an upper bound.
    expect(costOf(twice, undefined, {}, 'staff')).toBe(2 * (1 + 1 + 1000));
  });

  it('an over-large first is priced as the largest page, and left to the resolver to refuse', () => {
    expect(costOf(catalog, 'Catalog', { first: 10_000 }, 'anonymous')).toBe(
      costOf(catalog, 'Catalog', { first: 100 }, 'anonymous'),
    );
  });

  it('variables that do not fit leave the refusal to execution', () => {
    expect(costOf(catalog, 'Catalog', { first: 'many' }, 'anonymous')).toBeNull();
  });

  it('a price kept for one parsed document is never the price of other variables or another operation', () => {
    const document = parse(catalog);
    const price = (operationName: string, variables: Record<string, unknown>) =>
      operationCost({ schema, document, operationName, variableValues: variables, contextValue: {} });
    // More keys than one document keeps, asked twice each, in between the other operation of the file.
    const firsts = Array.from({ length: 150 }, (_, i) => (i % 100) + 1);
    const asked = [...firsts, ...firsts.reverse()].map((first) => [first, price('Catalog', { first })]);
    for (const [first, cost] of asked) {
      expect(cost).toBe(costOf(catalog, 'Catalog', { first }, 'anonymous'));
    }
    expect(price('ProductAvailability', { sku: 'A' })).toBe(
      costOf(catalog, 'ProductAvailability', { sku: 'A' }, 'anonymous'),
    );
    expect(price('Catalog', { first: 'many' })).toBeNull();
    expect(price('Catalog', { first: 7 })).toBe(costOf(catalog, 'Catalog', { first: 7 }, 'anonymous'));
    expect(price('Catalog', { first: 7 })).not.toBe(price('Catalog', { first: 8 }));
  });
});

describe('every list of the schema has a bound or an estimate', () => {
  it('no list field is priced by the fallback for lists without one', () => {
    const fallback: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!isListType(getNullableType(field.type))) continue;
        const cost = field.extensions.complexity;
        if (cost !== defaultFieldCost) continue;
        // Edges are counted by their connection's page size; those fields have `first`.
        const priced = defaultFieldCost({}, {}, field as never);
        if (typeof priced === 'object' && priced.multiplier === 1 && field.name === 'edges') continue;
        fallback.push(`${type.name}.${field.name}: [${getNamedType(field.type).name}]`);
      }
    }
    expect(fallback).toEqual([]);
  });
});

describe('settings', () => {
  it('budgets and limits default to the contract and can be set per role', () => {
    const config = loadConfig({});
    expect(config.costBudgets).toEqual(DEFAULT_COST_BUDGETS);
    expect(config.documentLimits).toEqual({ depth: 12, aliases: 30, tokens: 1000, directives: 50 });
    expect(loadConfig({ COST_BUDGET_ANONYMOUS: '500', MAX_DEPTH: '8' })).toMatchObject({
      costBudgets: { anonymous: 500, customer: DEFAULT_COST_BUDGETS.customer },
      documentLimits: { depth: 8 },
    });
  });

  it('refuses values it cannot use, naming them', () => {
    expect(() => loadConfig({ COST_BUDGET_STAFF: '0' })).toThrow(/COST_BUDGET_STAFF/);
    expect(() => loadConfig({ MAX_TOKENS: '100000' })).toThrow(
      /MAX_TOKENS must be a whole number from 100 to 2000/,
    );
  });
});

describe('the largest token setting', () => {
  it('admits no document nested deeper than can be read, validated and priced', () => {
    // Selections take three tokens a level ("a {" and "}"), list literals two ("[" and "]").
    const pairs = Math.floor((MAX_TOKENS_SETTING - 16) / 6);
    const selections = `{ products(first: 1) { edges { node { ${'inbound { product { '.repeat(pairs)}id${' } }'.repeat(pairs)} } } } }`;
    const deep = parse(selections, { maxTokens: MAX_TOKENS_SETTING });
    expect(validate(schema, deep)).toEqual([]);
    expect(operationCost({ schema, document: deep, contextValue: contextOf('staff') })).toBeGreaterThan(0);
    const items = Math.floor((MAX_TOKENS_SETTING - 11) / 2);
    const lists = `{ node(id: ${'['.repeat(items)}1${']'.repeat(items)}) { id } }`;
    expect(validate(schema, parse(lists, { maxTokens: MAX_TOKENS_SETTING })).length).toBeGreaterThan(0);
  });
});

describe('a price kept across texts', () => {
  const catalog = readFileSync(path.join(OPERATIONS, 'storefront.graphql'), 'utf8');

  it('serves every sku with the price of one, and never a variable of the wrong type', () => {
    const document = parse(catalog);
    const price = (variables: Record<string, unknown>) =>
      operationCost({
        schema,
        document,
        operationName: 'ProductAvailability',
        variableValues: variables,
        contextValue: contextOf('anonymous'),
      });
    const fresh = costOf(catalog, 'ProductAvailability', { sku: 'A' }, 'anonymous');
    for (let i = 0; i < 300; i++) expect(price({ sku: `SKU-${i}` })).toBe(fresh);
    // A number where the text goes does not fit: it is priced apart (null), as without a kept price.
    expect(price({ sku: 7 })).toBe(costOf(catalog, 'ProductAvailability', { sku: 7 }, 'anonymous'));
  });
});

describe("a field the caller's role shuts costs nothing, with its selection (the contract's cost rule)", () => {
  const customer = readFileSync(path.join(OPERATIONS, 'customer.graphql'), 'utf8');
  const staffOps = readFileSync(path.join(OPERATIONS, 'staff.graphql'), 'utf8');

  it('an anonymous caller\'s viewer (null by rule): "MyOrders" at its largest page fits the anonymous budget', () => {
    const asCustomer = costOf(customer, 'MyOrders', { first: 100 }, 'customer')!;
    expect(asCustomer).toBeGreaterThan(DEFAULT_COST_BUDGETS.anonymous);
    expect(costOf(customer, 'MyOrders', { first: 100 }, 'anonymous')).toBe(0);
  });

  it('a staff-only mutation, for a customer and for an anonymous caller; staff pay in full', () => {
    const receipt = { input: { productId: ID, quantity: 1_000_000 } };
    expect(costOf(staffOps, 'ReceiveStock', receipt, 'staff')).toBeGreaterThan(DEFAULT_COST_BUDGETS.customer);
    expect(costOf(staffOps, 'ReceiveStock', receipt, 'customer')).toBe(0);
    expect(costOf(staffOps, 'ReceiveStock', receipt, 'anonymous')).toBe(0);
  });

  it('a price kept for one parsed document is never the price of another role', () => {
    const document = parse(customer);
    const price = (role: Role) =>
      operationCost({
        schema,
        document,
        operationName: 'MyOrders',
        variableValues: { first: 100 },
        contextValue: contextOf(role),
      });
    expect(price('anonymous')).toBe(0);
    expect(price('customer')).toBe(costOf(customer, 'MyOrders', { first: 100 }, 'customer'));
    expect(price('anonymous')).toBe(0);
  });
});
