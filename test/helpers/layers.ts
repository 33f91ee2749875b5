import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/, lowest first. A file may import its own layer and any lower one, never a higher
 * one. Every top-level file and folder has a layer; a new one must be given one here.
 */
export const LAYERS = ['base', 'rules', 'db', 'domain', 'read', 'events', 'schema', 'edge', 'entry'] as const;
export type Layer = (typeof LAYERS)[number];

const PLACES: Record<string, Layer> = {
  'log.ts': 'base',
  rules: 'rules',
  db: 'db',
  domain: 'domain',
  read: 'read',
  events: 'events',
  jobs: 'events',
  schema: 'schema',
  // The edge: HTTP and WebSocket, the request context, credentials, wiring, start-up helpers.
  'server.ts': 'edge',
  'context.ts': 'edge',
  'auth.ts': 'edge',
  'config.ts': 'edge',
  'database.ts': 'edge',
  'seed.ts': 'edge',
  'graphiql.ts': 'edge',
  'shared-subscriptions.ts': 'edge',
  http: 'edge',
  limits: 'edge',
  ws: 'edge',
  ops: 'edge',
  // What a person runs.
  'main.ts': 'entry',
  scripts: 'entry',
};

/** Layers that may speak GraphQL (graphql-js, Yoga, Pothos, envelop, graphql-ws). */
const GRAPHQL_LAYERS = new Set<Layer>(['schema', 'edge', 'entry']);
const GRAPHQL_PACKAGES = /^(graphql|graphql-yoga|graphql-ws|@pothos\/|@envelop\/|@graphql-yoga\/)/;

export function layerOf(relativeToSrc: string): Layer | null {
  const [top] = relativeToSrc.split(/[\\/]/);
  return top ? (PLACES[top] ?? null) : null;
}

/**
 * Every module a file names, in every form the compiler knows: static imports (type-only and
 * side-effect ones included), re-exports, dynamic import() and require().
 */
export function importsOf(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** A relative specifier to the file it names (with or without the .ts extension, or a folder's index). */
function resolve(from: string, specifier: string, exists: (file: string) => boolean): string {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')])
    if (exists(candidate)) return candidate;
  return base;
}

/** Checks files (absolute path -> text) under `src`; returns one line per violation. */
export function layeringViolations(
  src: string,
  files: ReadonlyMap<string, string>,
  exists: (file: string) => boolean = (f) => files.has(f) || existsSync(f),
): string[] {
  const violations: string[] = [];
  for (const [file, text] of files) {
    const name = path.relative(src, file);
    const from = layerOf(name);
    if (!from) {
      violations.push(`${name} has no layer: give its top-level place one`);
      continue;
    }
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith('.')) {
        if (GRAPHQL_PACKAGES.test(specifier) && !GRAPHQL_LAYERS.has(from)) {
          violations.push(`${name} (${from}) imports GraphQL (${specifier})`);
        }
        continue;
      }
      const target = resolve(file, specifier, exists);
      const targetName = path.relative(src, target);
      if (targetName.startsWith('..')) {
        // The migrator (db) applies the migrations, which import no app code at all.
        const migrations = path.relative(path.resolve(src, '../migrations'), target);
        if (from !== 'db' || migrations.startsWith('..')) {
          violations.push(`${name} (${from}) imports ${specifier}, outside src`);
        }
        continue;
      }
      const to = layerOf(targetName);
      if (!to) violations.push(`${name} (${from}) imports ${targetName}, which has no layer`);
      else if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
        violations.push(`${name} (${from}) imports ${targetName} (${to})`);
      }
    }
  }
  return violations.sort();
}

export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    files.set(file, readFileSync(file, 'utf8'));
  }
  return files;
}
