import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { log } from '../../base/log.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * Where the operations clients send are written down: test/operations/ (which holds copies of the
 * contract's files) and the contract itself when it sits beside the project.
 */
export const OPERATION_FOLDERS = [
  path.join(ROOT, 'test/operations'),
  path.resolve(ROOT, '../shared/contract'),
];

/** However many files there are, the label set stays this small. */
const MAX_NAMES = 500;

/** The names of the operations in every .graphql file of these folders. */
export function readOperationNames(folders: readonly string[] = OPERATION_FOLDERS): Set<string> {
  const names = new Set<string>();
  for (const folder of folders.filter((f) => existsSync(f))) {
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.graphql'))) {
      try {
        for (const definition of parse(readFileSync(path.join(folder, file), 'utf8')).definitions) {
          if (definition.kind === Kind.OPERATION_DEFINITION && definition.name && names.size < MAX_NAMES) {
            names.add(definition.name.value);
          }
        }
      } catch (err) {
        log.warn(`operation names: skipped ${file}`, err instanceof Error ? err.message : err);
      }
    }
  }
  return names;
}

let known: ReadonlySet<string> | undefined;

/**
 * The operation names clients are known to send, read once at start-up. Metrics label a request with one
 * of these or `other`, so a client cannot grow the label set by naming its operations.
 */
export function knownOperations(): ReadonlySet<string> {
  if (!known) {
    known = readOperationNames();
    if (known.size === 0)
      log.warn('no operation files found: every operation is labelled "other" in metrics');
  }
  return known;
}

/** The label for metrics: a known name, or `other`. */
export function operationLabel(name: string | undefined): string {
  return name && knownOperations().has(name) ? name : 'other';
}

/** A name as the logs show it: GraphQL name characters only, at most 64 of them. */
export function operationForLog(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  return name.replace(/[^_0-9A-Za-z]/g, '_').slice(0, 64);
}
