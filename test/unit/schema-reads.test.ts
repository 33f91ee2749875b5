import { encodeGlobalID } from '@pothos/plugin-relay';
import { type GraphQLResolveInfo, isObjectType, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { lookahead, selectedAt } from '../../src/schema/lookahead.ts';

describe('node ids', () => {
  it('every node type encodes its id at once, into the global id the relay plugin would give', () => {
    const nodeTypes = Object.values(schema.getTypeMap()).filter(
      (type) => isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node'),
    );
    expect(nodeTypes.length).toBeGreaterThanOrEqual(8);
    for (const type of nodeTypes) {
      if (!isObjectType(type)) continue;
      const id = type.getFields().id!.resolve!({ id: 42 }, {}, {}, {} as GraphQLResolveInfo);
      expect(id, type.name).toBe(encodeGlobalID(type.name, '42'));
    }
  });
});

describe('lookahead', () => {
  /** The selection below the first field of the query's first operation. */
  function below(document: string) {
    const doc = parse(document);
    const operation = doc.definitions.find((d) => d.kind === 'OperationDefinition')!;
    const field = operation.selectionSet.selections[0]!;
    const fragments = Object.fromEntries(
      doc.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])),
    );
    return lookahead({ fieldNodes: [field], fragments } as unknown as GraphQLResolveInfo);
  }

  it('merges fields, aliases, inline fragments and fragment spreads', () => {
    const selected = below(`
      query { orders { edges { node { a: id ... on Order { lines { quantity } } ...More } } } }
      fragment More on Order { lines { backorder { queuePosition } } }
    `);
    const lines = selectedAt(selected, 'edges', 'node', 'lines');
    expect(selectedAt(selected, 'edges', 'node', 'id')).toBeDefined();
    expect(selectedAt(lines, 'quantity')).toBeDefined();
    expect(selectedAt(lines, 'backorder', 'queuePosition')).toBeDefined();
    expect(selectedAt(lines, 'backorder', 'estimatedAvailableAt')).toBeUndefined();
    expect(selectedAt(lines, 'product')).toBeUndefined();
  });
});
