import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { responsePathAsArray } from 'graphql';
import { callerError } from './caller-error.ts';
import type { Context } from './context-type.ts';
import { defaultFieldCost } from './field-cost.ts';

/** Setup only: plugins and defaults. Types live in their own files. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  AuthScopes: { customer: boolean; staff: boolean };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  Connection: { totalCount?: number };
}>({
  // scope-auth first, so that no other plugin's wrapper runs before access is decided.
  plugins: [ScopeAuthPlugin, RelayPlugin, ErrorsPlugin, ComplexityPlugin],
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  scopeAuth: {
    // A subscription's caller is checked when it subscribes, not only as each event resolves: subscribe
    // resolvers may rely on the role, and a refused caller gets FORBIDDEN at once, not a stream.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      customer: ctx.viewer?.role === 'customer',
      staff: ctx.viewer?.role === 'staff',
    }),
    // Located at its field already: graphql then passes it on as it is, instead of wrapping it in another
    // error whose making reads this one's stack (formatted through source maps). Without a stack of its
    // own: it is the caller's doing.
    unauthorizedError: (_parent, ctx, info) =>
      callerError(
        ctx.viewer
          ? `Your role may not use ${info.parentType.name}.${info.fieldName}`
          : `Sign in to use ${info.parentType.name}.${info.fieldName}`,
        { nodes: info.fieldNodes, path: responsePathAsArray(info.path), extensions: { code: 'FORBIDDEN' } },
      ),
  },
  // Field costs only: the operation is priced and refused before it runs (src/edge/limits), never mid-way.
  complexity: { disabled: true, fieldComplexity: defaultFieldCost },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
  },
  errors: {
    defaultTypes: [],
    directResult: true,
    defaultUnionOptions: {
      name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result`,
    },
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
