import { createComplexityRule } from '@pothos/plugin-complexity';
import { type DocumentNode, type GraphQLSchema, validate, visit } from 'graphql';
import { measureWithUnits } from '../schema/field-cost.ts';

export interface CostedOperation {
  schema: GraphQLSchema;
  document: DocumentNode;
  variableValues?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
  /** The caller's context: a field may price itself by who asks. */
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
 * The pricing runs as a validation rule of its own, here, for this execution only: never through the
 * validation that is cached per document.
 */
export function operationCost(operation: CostedOperation): number | null {
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
