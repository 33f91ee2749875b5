import type { FieldComplexityValue } from '@pothos/plugin-complexity';
import { type GraphQLField, type GraphQLSchema, isInterfaceType, isObjectType } from 'graphql';
import type { Actor, Role } from '../domain/types.ts';

/** What a field the caller's role shuts costs: nothing, its selection included. */
const FREE: FieldComplexityValue = { field: 0, multiplier: 0 };

type Complexity =
  | FieldComplexityValue
  | ((
      args: Record<string, unknown>,
      ctx: object,
      field: GraphQLField<unknown, object>,
    ) => FieldComplexityValue);

/**
 * The roles a field answers: those its `authScopes` name (any of them; none named, every role), less the
 * roles it is null for by rule (`extensions: { nullForRoles }`, such as `viewer` for anonymous callers).
 */
function rolesServed(field: GraphQLField<unknown, unknown>): Set<Role> | null {
  const options = field.extensions as {
    pothosOptions?: { authScopes?: unknown };
    nullForRoles?: readonly Role[];
  };
  const scopes = options.pothosOptions?.authScopes;
  const nullFor = options.nullForRoles ?? [];
  if (scopes === undefined && nullFor.length === 0) return null;
  if (scopes !== undefined && (typeof scopes !== 'object' || scopes === null)) {
    throw new Error(`${field.name}: authScopes must be a plain object to be priced by role`);
  }
  const roles = new Set<Role>(
    scopes === undefined
      ? ['anonymous', 'customer', 'staff']
      : (Object.entries(scopes)
          .filter(([, on]) => on === true)
          .map(([scope]) => scope) as Role[]),
  );
  for (const role of nullFor) roles.delete(role);
  return roles;
}

/** The caller's role, from the context every field's cost is measured with. */
export function roleOf(ctx: object): Role {
  return (ctx as { viewer?: Actor | null }).viewer?.role ?? 'anonymous';
}

/**
 * A field, with its selection, costs nothing for a caller whose role alone makes it null or FORBIDDEN
 * (the contract's cost rule): an anonymous caller's `viewer`, a customer's staff-only mutation. A field
 * that may turn out null from the data costs in full. The price of an operation thus depends on the
 * caller's role, never on who the caller is.
 */
export function freeWhereTheRoleShutsTheField(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const served = rolesServed(field);
      if (!served) continue;
      const extensions = field.extensions as { complexity?: Complexity };
      const priced = extensions.complexity ?? 1;
      const complexity: Complexity = (args, ctx, f) => {
        if (!served.has(roleOf(ctx))) return FREE;
        return typeof priced === 'function' ? priced(args, ctx, f) : priced;
      };
      // graphql-js keeps extensions frozen per field: the field takes a new object.
      (field as { extensions: object }).extensions = { ...field.extensions, complexity };
    }
  }
  return schema;
}
