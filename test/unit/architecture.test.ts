import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Layers point one way: server -> schema -> events -> domain -> db. Nothing imports upward. */
const SRC = path.resolve(import.meta.dirname, '../../src');
const RANK: Record<string, number> = { db: 0, domain: 1, events: 2, schema: 3 };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function layerOf(file: string): string | null {
  const [top] = path.relative(SRC, file).split(path.sep);
  return top && top in RANK ? top : null;
}

describe('layering', () => {
  const violations: string[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    if (!from) continue;
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/from '(\.[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), match[1]!);
      const to = layerOf(target);
      if (to === null && target.startsWith(SRC)) {
        violations.push(`${path.relative(SRC, file)} imports app-level ${path.relative(SRC, target)}`);
      } else if (to !== null && RANK[to]! > RANK[from]!) {
        violations.push(
          `${path.relative(SRC, file)} (${from}) imports ${path.relative(SRC, target)} (${to})`,
        );
      }
    }
    if (from !== 'schema' && /from '(graphql|graphql-yoga|@pothos\/[^']+)'/.test(source)) {
      violations.push(`${path.relative(SRC, file)} (${from}) imports GraphQL`);
    }
  }

  it('has no upward import', () => {
    expect(violations).toEqual([]);
  });

  it('migrations never import app code', () => {
    const dir = path.resolve(SRC, '../migrations');
    for (const file of readdirSync(dir)) {
      expect(readFileSync(path.join(dir, file), 'utf8')).not.toMatch(/from '\.\.\/src/);
    }
  });
});
