import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  knownOperations,
  OPERATION_FOLDERS,
  operationForLog,
  operationLabel,
  readOperationNames,
} from '../../src/edge/ops/known-operations.ts';
import { requestIdFrom } from '../../src/edge/ops/request-id.ts';

describe('the operation names metrics know', () => {
  it('are read from the operation files: the contract and test/operations', () => {
    const known = knownOperations();
    for (const name of ['PlaceOrder', 'Catalog', 'WatchAvailability', 'ReceiveStock', 'MyBackorders']) {
      expect(known).toContain(name);
    }
    const text = readdirSync(OPERATION_FOLDERS[0]!)
      .filter((f) => f.endsWith('.graphql'))
      .map((f) => readFileSync(path.join(OPERATION_FOLDERS[0]!, f), 'utf8'))
      .join('\n');
    const declared = [...text.matchAll(/^\s*(?:query|mutation|subscription)\s+(\w+)/gm)].map((m) => m[1]!);
    expect(declared.length).toBeGreaterThan(20);
    for (const name of declared) expect(known).toContain(name);
  });

  it('label anything else as other, and show names in logs only as GraphQL name characters', () => {
    expect(operationLabel('PlaceOrder')).toBe('PlaceOrder');
    expect(operationLabel('PlaceOrder2')).toBe('other');
    expect(operationLabel(undefined)).toBe('other');
    expect(operationForLog('a b\nc')).toBe('a_b_c');
    expect(operationForLog('x'.repeat(500))).toHaveLength(64);
  });

  it('stay empty (everything other) where no operation files are', () => {
    expect(readOperationNames(['/nonexistent'])).toEqual(new Set());
  });
});

describe('request ids', () => {
  it("keep a caller's short, safe id and replace anything else", () => {
    expect(requestIdFrom('lb-7f3a.9:1')).toBe('lb-7f3a.9:1');
    for (const bad of ['', 'a b', 'x'.repeat(65), 'a"b', '<script>', 'é']) {
      expect(requestIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(requestIdFrom(undefined)).not.toBe(requestIdFrom(undefined));
  });
});
