import { BREAK, type DocumentNode, type GraphQLError, visit } from 'graphql';
import { inputRefusal } from './refusal.ts';

/** Deeper than any input type of the schema can use (an order's lines are three levels down). */
export const VARIABLES_MAX_NESTING = 32;

const NUL = '\u0000';

/**
 * Strings holding a NUL character, and variables nested deeper than any input type, are refused before the
 * operation runs: Postgres cannot store NUL in text, and deep JSON would only burden what reads it later.
 * The walk keeps its own stack, so that however deep the variables are, it cannot overflow.
 */
function variablesRefusal(variables: unknown): GraphQLError | null {
  const stack: { value: unknown; depth: number }[] = [{ value: variables, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes(NUL)) return inputRefusal('A string in the variables holds a NUL character.');
    } else if (typeof value === 'object' && value !== null) {
      if (depth >= VARIABLES_MAX_NESTING) {
        return inputRefusal(`Variables are nested deeper than ${VARIABLES_MAX_NESTING} levels.`);
      }
      for (const [key, item] of Object.entries(value)) {
        if (key.includes(NUL)) return inputRefusal('A name in the variables holds a NUL character.');
        stack.push({ value: item, depth: depth + 1 });
      }
    }
  }
  return null;
}

/** Per parsed document (Yoga reuses one per query text): whether a string in it holds NUL. */
const holdsNul = new WeakMap<DocumentNode, boolean>();

function documentRefusal(document: DocumentNode): GraphQLError | null {
  let found = holdsNul.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      StringValue(node) {
        if (!node.value.includes(NUL)) return undefined;
        found = true;
        return BREAK;
      },
    });
    holdsNul.set(document, found);
  }
  return found ? inputRefusal('A string in the document holds a NUL character.') : null;
}

export function stringsRefusal(document: DocumentNode, variables: unknown): GraphQLError | null {
  return variablesRefusal(variables) ?? documentRefusal(document);
}
