import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations the tests send, and for those of the storefront example, from the
 * committed schema. A schema change that breaks a client operation breaks `npm run typecheck`. CI
 * regenerates and fails when test/generated or examples/storefront/src/generated is stale.
 */
/** Documents keep their text and carry their hash (`__meta__.hash`): a client may send either. */
const PERSISTED = { mode: 'embedHashInDocument', hashAlgorithm: 'sha256' } as const;

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  emitLegacyCommonJSImports: false,
  generates: {
    'test/generated/': {
      documents: ['test/operations/*.graphql'],
      preset: 'client',
      // persisted-documents.json: every document by its sha256, for the trusted-document path.
      presetConfig: { fragmentMasking: false, persistedDocuments: PERSISTED },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        avoidOptionals: false,
      },
    },
    // The browser sends documents as strings (fetch and graphql-ws): no graphql-js in the page.
    'examples/storefront/src/generated/': {
      documents: ['examples/storefront/src/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: PERSISTED },
      config: {
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        avoidOptionals: false,
      },
    },
  },
};

export default config;
