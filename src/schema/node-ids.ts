import { encodeGlobalID } from '@pothos/plugin-relay';
import { type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';
import { andThen } from '../read/loader.ts';

type IdResolver = GraphQLFieldResolver<unknown, unknown, unknown, string | number | bigint>;

/**
 * The relay plugin resolves every node's `id` through an async function: each node on a page then costs a
 * promise, and graphql awaits its whole object. Here a node's id is a plain function of its row
 * (`builder.node(..., { id: { resolve } })`), so it is encoded at once, into the same global id. Types with
 * type-level auth scopes keep the plugin's resolver, which their scope check wraps.
 */
export function resolveNodeIdsAtOnce(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || !type.getInterfaces().some((i) => i.name === 'Node')) continue;
    const options = type.extensions.pothosOptions as { id?: { resolve?: IdResolver }; authScopes?: unknown };
    const resolveId = options?.id?.resolve;
    const field = type.getFields().id;
    if (!resolveId || !field || options.authScopes !== undefined) continue;
    field.resolve = (parent, args, ctx, info) =>
      andThen(resolveId(parent, args, ctx, info), (id) => encodeGlobalID(type.name, String(id)));
  }
  return schema;
}
