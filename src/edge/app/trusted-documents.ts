import { existsSync, readFileSync } from 'node:fs';
import {
  defaultExtractPersistedOperationId,
  usePersistedOperations,
} from '@graphql-yoga/plugin-persisted-operations';
import { type DocumentNode, Kind, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const ROOT = new URL('../../../', import.meta.url);
/** The contract's operations (CI holds them equal to the contract) and the storefront example's. */
const CONTRACT_FILES = ['storefront', 'customer', 'staff'].map((name) => `test/operations/${name}.graphql`);
const MANIFESTS = {
  contract: 'test/generated/persisted-documents.json',
  storefront: 'examples/storefront/src/generated/persisted-documents.json',
};

/**
 * Trusted documents, by the sha256 of their text as GraphQL Code Generator prints them (its
 * persisted-documents manifests, `npm run codegen`): the contract's operations and the storefront
 * example's, parsed once here. A client may send `extensions.persistedQuery.sha256Hash` instead of the
 * text; the document is then neither sent, parsed nor validated again. The test suite's other operations
 * are in the same manifest but are not trusted: some exist to be refused.
 */
export function loadTrustedDocuments(): Map<string, DocumentNode> {
  // Without the contract's files (a trimmed deployment) none of the suite's manifest is trusted.
  const contract = new Set(
    CONTRACT_FILES.filter((file) => existsSync(new URL(file, ROOT))).flatMap((file) =>
      parse(readFileSync(new URL(file, ROOT), 'utf8')).definitions.flatMap((d) =>
        d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : [],
      ),
    ),
  );
  const trusted = new Map<string, DocumentNode>();
  for (const [source, file] of Object.entries(MANIFESTS)) {
    const url = new URL(file, ROOT);
    if (!existsSync(url)) continue;
    const manifest = JSON.parse(readFileSync(url, 'utf8')) as Record<string, string>;
    for (const [key, text] of Object.entries(manifest)) {
      const document = parse(text);
      if (source === 'contract' && !operationNames(document).every((name) => contract.has(name))) continue;
      trusted.set(key.replace(/^sha256:/, ''), document);
    }
  }
  return trusted;
}

function operationNames(document: DocumentNode): string[] {
  return document.definitions.flatMap((d) =>
    d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? ''] : [],
  );
}

/**
 * Runs a trusted document sent by its hash; the text of any document is accepted as before, and a request
 * with neither is left to be refused as it always was ("Must provide query string").
 */
export function useTrustedDocuments(trusted: ReadonlyMap<string, DocumentNode>): Plugin {
  const persisted = usePersistedOperations({
    getPersistedOperation: (hash) => trusted.get(hash) ?? null,
    allowArbitraryOperations: true,
    skipDocumentValidation: true,
  });
  return {
    ...persisted,
    onParams(payload) {
      if (
        !payload.params.query &&
        defaultExtractPersistedOperationId(payload.params, payload.request, payload.context) === null
      )
        return;
      return persisted.onParams?.(payload);
    },
  };
}
