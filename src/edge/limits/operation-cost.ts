import { createComplexityRule } from '@pothos/plugin-complexity';
import { type DocumentNode, type GraphQLSchema, getOperationAST, Kind, validate, visit } from 'graphql';
import { measureWithUnits } from '../../schema/field-cost.ts';
import { roleOf } from '../../schema/role-cost.ts';

export interface CostedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
  /** The caller's context: the measurement's scratch space (src/schema/field-cost.ts), and the caller's
   *  role, which frees the fields it shuts (src/schema/role-cost.ts). No field prices itself by who the
   *  caller is, so one price serves every caller of the same role and request. */
  contextValue: object;
}

const priced = new WeakMap<DocumentNode, DocumentNode>();

/**
 * Introspection costs nothing: its fields are taken out before the operation is priced. This depends on
 * the document alone, so it is kept per parsed document (the price itself never is).
 */
function withoutIntrospection(document: DocumentNode): DocumentNode {
  let stripped = priced.get(document);
  if (!stripped) {
    stripped = visit(document, {
      Field(node) {
        return node.name.value.startsWith('__') ? null : undefined;
      },
    });
    priced.set(document, stripped);
  }
  return stripped;
}

/**
 * The estimated cost of the operation that is about to run, from its selection, its variables and the
 * caller, with the field costs declared in the schema (src/schema/field-cost.ts). Null when it cannot be
 * priced (an unknown operation name, variables that do not fit): execution then refuses it on its own,
 * before any resolver runs.
 *
 * The pricing runs as a validation rule of its own, here, never through the validation that is cached per
 * document (which knows no variables); a price once measured is kept for the same document, operation name
 * and variables (below).
 */
export function operationCost(operation: CostedOperation): number | null {
  const key = priceKey(operation);
  if (key === null) return measureCost(operation);
  let known = prices.get(operation.document);
  if (!known) {
    known = new Map();
    prices.set(operation.document, known);
  }
  const cached = known.get(key);
  if (cached !== undefined) return cached;
  const cost = measureCost(operation);
  if (known.size >= PRICES_PER_DOCUMENT) known.clear();
  known.set(key, cost);
  return cost;
}

/**
 * Prices already measured, per parsed document (parsed documents are cached per query text, so the same
 * request meets the same document): a price depends on the document, the operation name, the variables
 * and the caller's role alone. Kept only for variables that are few and scalar, and a bounded number per document, so the
 * memory stays small and a key costs less than the measurement it saves.
 */
const prices = new WeakMap<DocumentNode, Map<string, number | null>>();
const PRICES_PER_DOCUMENT = 64;
const KEYED_VARIABLES = 16;
const KEYED_STRING = 256;

function priceKey(operation: CostedOperation): string | null {
  const variables = operation.variableValues ?? {};
  const inert = inertVariables(operation.document, operation.operationName);
  const keyed: Record<string, unknown> = {};
  let count = 0;
  for (const name of Object.keys(variables)) {
    const value = variables[name];
    // A text (sku, id, name) is never a price's input: no field prices itself by one.
    if (inert.has(name) && (typeof value === 'string' || value === null)) continue;
    if (++count > KEYED_VARIABLES) return null;
    if (value !== null && typeof value === 'object') return null;
    if (typeof value === 'string' && value.length > KEYED_STRING) return null;
    keyed[name] = value;
  }
  return `${roleOf(operation.contextValue)}\u0000${operation.operationName ?? ''}\u0000${JSON.stringify(keyed)}`;
}

/**
 * The variables of an operation declared as a single `String` or `ID`: what they hold cannot change a
 * price (costs read page sizes, units, and directives' booleans, never a text), so a price kept for one
 * sku serves every sku. Kept per parsed document and operation name.
 */
function inertVariables(document: DocumentNode, operationName: string | null | undefined): Set<string> {
  let byOperation = inert.get(document);
  if (!byOperation) {
    byOperation = new Map();
    inert.set(document, byOperation);
  }
  const key = operationName ?? '';
  let names = byOperation.get(key);
  if (!names) {
    names = new Set();
    const operation = getOperationAST(document, operationName);
    for (const definition of operation?.variableDefinitions ?? []) {
      const type = definition.type.kind === Kind.NON_NULL_TYPE ? definition.type.type : definition.type;
      if (type.kind === Kind.NAMED_TYPE && TEXT_TYPES.has(type.name.value)) {
        names.add(definition.variable.name.value);
      }
    }
    byOperation.set(key, names);
  }
  return names;
}
const inert = new WeakMap<DocumentNode, Map<string, Set<string>>>();
const TEXT_TYPES = new Set(['String', 'ID']);

function measureCost(operation: CostedOperation): number | null {
  const document = withoutIntrospection(operation.document);
  const measure = (): number | null => {
    let cost: number | null = null;
    const rule = createComplexityRule({
      context: operation.contextValue,
      variableValues: operation.variableValues ?? {},
      operationName: operation.operationName ?? null,
      // Without an operation name every operation of the document is priced; the dearest one counts.
      // Nested lists multiply: past what a number holds exactly, the cost is simply that large.
      validate: ({ complexity }) => {
        cost = Math.min(Math.max(cost ?? 0, complexity), Number.MAX_SAFE_INTEGER);
      },
    });
    return validate(operation.schema, document, [rule]).length > 0 ? null : cost;
  };
  return measureWithUnits(operation.contextValue, measure);
}
