import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/** The fields selected below a field, by response-independent name, fragments merged in. */
export interface Selected {
  readonly fields: Map<string, Selected>;
}

function collect(set: SelectionSetNode, info: GraphQLResolveInfo, into: Selected): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const child = into.fields.get(name) ?? { fields: new Map() };
      into.fields.set(name, child);
      if (selection.selectionSet) collect(selection.selectionSet, info, child);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(selection.selectionSet, info, into);
    } else {
      const fragment = info.fragments[selection.name.value];
      if (fragment) collect(fragment.selectionSet, info, into);
    }
  }
}

/**
 * What the query selects below the field being resolved, so that a list can read in bulk what its items
 * will show. Type conditions and @skip/@include are not evaluated: a field they leave out may still be read,
 * never the other way round.
 */
export function lookahead(info: GraphQLResolveInfo): Selected {
  const root: Selected = { fields: new Map() };
  for (const node of info.fieldNodes) if (node.selectionSet) collect(node.selectionSet, info, root);
  return root;
}

/** The selection at `path` below `from`, if the query selects it. */
export function selectedAt(from: Selected | undefined, ...path: string[]): Selected | undefined {
  let at = from;
  for (const name of path) at = at?.fields.get(name);
  return at;
}
