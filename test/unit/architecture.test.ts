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
      [at('db/dynamic.ts'), `export async function load() {\n  return import('../live/live-hub.ts');\n}\n`],
      [at('db/re-export.ts'), `export { thing } from "../domain/orders.ts";\n`],
      [
        at('db/type-only.ts'),
        `import type { Readers } from '../read/readers.ts';\nexport type R = Readers;\n`,
      ],
      [
        at('domain/to-the-edge.ts'),
        `import { buildApp } from '../edge/app/server.ts';\nexport const app = buildApp;\n`,
      ],
      [at('domain/rules/to-domain.ts'), `import { placeOrder } from '../orders.ts';\n`],
      [at('newplace/file.ts'), `export const x = 1;\n`],
      [
        at('schema/fine.ts'),
        `import { x } from '../domain/orders.ts';\nimport '../domain/rules/stock-rules.ts';\n`,
      ],
    ]);
    const violations = layeringViolations(
      '/fixture/src',
      fixture,
      (f) => fixture.has(f) || f.endsWith('.ts'),
    );
    expect(violations).toEqual([
      'db/dynamic.ts (db) imports live/live-hub.ts (live)',
      'db/re-export.ts (db) imports domain/orders.ts (domain)',
      'db/side-effect.ts (db) imports schema/index.ts (schema)',
      'db/type-only.ts (db) imports read/readers.ts (read)',
      'domain/rules/to-domain.ts (rules) imports domain/orders.ts (domain)',
      'domain/to-the-edge.ts (domain) imports edge/app/server.ts (edge/app)',
      'newplace/file.ts has no layer: give its place one',
    ]);
  });

  it("fails on a cycle within a layer, and on an import against the edge's inner order", () => {
    const at = (name: string) => path.join('/fixture/src', name);
    const fixture = new Map<string, string>([
      // live/a -> live/b -> live/c -> live/a: each import is within the layer, together a cycle.
      [at('live/a.ts'), `import { b } from './b.ts';\n`],
      [at('live/b.ts'), `import type { C } from './c.ts';\n`],
      [at('live/c.ts'), `export { a } from './a.ts';\n`],
      // outbox -> live is downward: no cycle across layers is possible, and none is reported.
      [at('outbox/relay.ts'), `import { a } from '../live/a.ts';\n`],
      [at('edge/settings/config.ts'), `import { EdgeGate } from '../limits/edge-gate.ts';\n`],
      [at('edge/http/body.ts'), `import type { Socket } from '../ws/operations.ts';\n`],
      [at('edge/limits/edge-gate.ts'), `import { observeRequest } from '../http/observe.ts';\n`],
      [at('edge/app/server.ts'), `import { main } from '../main.ts';\n`],
      [at('edge/main.ts'), `import { buildApp } from './app/server.ts';\n`],
    ]);
    const violations = layeringViolations(
      '/fixture/src',
      fixture,
      (f) => fixture.has(f) || f.endsWith('.ts'),
    );
    expect(violations).toEqual([
      'cycle within live: live/a.ts -> live/b.ts -> live/c.ts -> live/a.ts',
      'edge/app/server.ts (edge/app) imports edge/main.ts (entry)',
      'edge/http/body.ts (edge/http) imports edge/ws/operations.ts (edge/ws)',
      'edge/settings/config.ts (edge/settings) imports edge/limits/edge-gate.ts (edge/limits)',
    ]);
  });

  it('fails on a package outside its layers: the driver, the query builder, GraphQL, WebSockets', () => {
    const at = (name: string) => path.join('/fixture/src', name);
    const fixture = new Map<string, string>([
      [at('schema/order.ts'), `import { sql } from 'kysely';\n`],
      [at('domain/orders.ts'), `import type pg from 'pg';\n`],
      [at('domain/rules/eta.ts'), `import { sql } from 'kysely';\n`],
      [at('outbox/relay.ts'), `import { GraphQLError } from 'graphql';\n`],
      [at('read/readers.ts'), `import type { Plugin } from '@envelop/core';\n`],
      [at('live/live-hub.ts'), `import { WebSocket } from 'ws';\n`],
      // Where each belongs.
      [at('db/connect.ts'), `import pg from 'pg';\nimport { Kysely } from 'kysely';\n`],
      [at('domain/rules/stock-rules.ts'), `import { sql } from 'kysely';\n`],
      [at('live/shared-executions.ts'), `import { print } from 'graphql';\n`],
      [
        at('edge/ws/operations.ts'),
        `import { WebSocketServer } from 'ws';\nimport { parse } from 'graphql';\n`,
      ],
    ]);
    expect(layeringViolations('/fixture/src', fixture, (f) => fixture.has(f))).toEqual([
      'domain/orders.ts (domain) imports the Postgres driver (pg)',
      'domain/rules/eta.ts (rules) imports the query builder (kysely)',
      'live/live-hub.ts (live) imports WebSockets (ws)',
      'outbox/relay.ts (outbox) imports GraphQL (graphql)',
      'read/readers.ts (read) imports GraphQL (@envelop/core)',
      'schema/order.ts (schema) imports the query builder (kysely)',
    ]);
  });

  it('has at most 8 entries at the top of src', () => {
    expect(readdirSync(SRC).length).toBeLessThanOrEqual(8);
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

describe('composition', () => {
  it('buildApp composes named parts and fits on a screen (under 60 lines)', () => {
    const text = readFileSync(path.join(SRC, 'edge', 'app', 'server.ts'), 'utf8');
    const body = /^export function buildApp[\s\S]*?^}/m.exec(text)?.[0] ?? '';
    expect(body).not.toBe('');
    expect(body.split('\n').length).toBeLessThan(60);
  });
});
