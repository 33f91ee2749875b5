import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, layeringViolations, readTree } from '../helpers/layers.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');

describe('layering', () => {
  it('has no upward import anywhere in src, top-level files included', () => {
    expect(layeringViolations(SRC, readTree(SRC))).toEqual([]);
  });

  it('fails on an upward import in every form the compiler reads', () => {
    const at = (name: string) => path.join('/fixture/src', name);
    const fixture = new Map<string, string>([
      [at('db/side-effect.ts'), `import '../schema/index.ts';\n`],
      [at('db/dynamic.ts'), `export async function load() {\n  return import('../events/live-hub.ts');\n}\n`],
      [at('db/re-export.ts'), `export { thing } from "../domain/orders.ts";\n`],
      [
        at('db/type-only.ts'),
        `import type { Readers } from '../read/readers.ts';\nexport type R = Readers;\n`,
      ],
      [
        at('domain/to-top-level.ts'),
        `import { buildApp } from '../server.ts';\nexport const app = buildApp;\n`,
      ],
      [at('events/graphql.ts'), `import { GraphQLError } from 'graphql';\nexport const E = GraphQLError;\n`],
      [at('newplace/file.ts'), `export const x = 1;\n`],
      [at('schema/fine.ts'), `import { x } from '../domain/orders.ts';\nimport '../rules/stock-rules.ts';\n`],
    ]);
    const violations = layeringViolations(
      '/fixture/src',
      fixture,
      (f) => fixture.has(f) || f.endsWith('.ts'),
    );
    expect(violations).toEqual([
      'db/dynamic.ts (db) imports events/live-hub.ts (events)',
      'db/re-export.ts (db) imports domain/orders.ts (domain)',
      'db/side-effect.ts (db) imports schema/index.ts (schema)',
      'db/type-only.ts (db) imports read/readers.ts (read)',
      'domain/to-top-level.ts (domain) imports server.ts (edge)',
      'events/graphql.ts (events) imports GraphQL (graphql)',
      'newplace/file.ts has no layer: give its top-level place one',
    ]);
  });

  it('reads require() and export * forms too', () => {
    expect(importsOf(`const a = require('./a.ts');\nexport * from './b.ts';\n`)).toEqual([
      './a.ts',
      './b.ts',
    ]);
  });

  it('migrations never import app code', () => {
    const dir = path.resolve(SRC, '../migrations');
    for (const file of readdirSync(dir)) {
      const imports = importsOf(readFileSync(path.join(dir, file), 'utf8'));
      expect(imports.filter((i) => i.includes('src/') || i.startsWith('../'))).toEqual([]);
    }
  });
});

describe('the event log', () => {
  it('is written by the writer alone: one file in src inserts into domain_event', () => {
    const writers = [...readTree(SRC)]
      .filter(([, text]) => /insertInto\(\s*['"]domain_event['"]|INSERT\s+INTO\s+domain_event\b/i.test(text))
      .map(([file]) => path.relative(SRC, file));
    expect(writers).toEqual([path.join('db', 'transaction.ts')]);
  });

  it('every repository function that writes takes a write (WriteTx or Writer.alone), never an executor', () => {
    const WRITES =
      /insertInto\(|updateTable\(|deleteFrom\(|\bINSERT\s+INTO\b|\bUPDATE\s+\w+(\s+\w+)?\s+SET\b|\bDELETE\s+FROM\b/;
    const offenders: string[] = [];
    let writers = 0;
    for (const [file, text] of readTree(path.join(SRC, 'db', 'repos'))) {
      for (const chunk of text.split(/^export (?=(?:async )?function )/m).slice(1)) {
        const name = /function (\w+)/.exec(chunk)?.[1];
        const firstParameter = /\(\s*\w+: ([\w| ]+?)[,)]/.exec(chunk)?.[1] ?? '';
        if (!WRITES.test(chunk.split(/^}/m)[0]!)) continue;
        writers++;
        if (/\bExecutor\b|\bDb\b|Kysely/.test(firstParameter)) {
          offenders.push(`${path.basename(file)} ${name}(${firstParameter})`);
        }
      }
    }
    expect(writers).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });
});

describe('memory', () => {
  it("loads GraphiQL's 9 MB bundle only when GraphiQL is asked for: no static import of it", () => {
    const statically = [...readTree(SRC)]
      .filter(([, text]) =>
        /^\s*(import|export)\b[^;]*from\s*['"]@graphql-yoga\/render-graphiql['"]/m.test(text),
      )
      .map(([file]) => path.relative(SRC, file));
    expect(statically).toEqual([]);
    const everywhere = [...readTree(SRC).values()].flatMap(importsOf);
    expect(everywhere).toContain('@graphql-yoga/render-graphiql');
  });
});
