import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { type GraphQLError, Lexer, parse, Source, TokenKind, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { DocumentLimits } from '../settings/document-limits.ts';
import { inputRefusal, type LimitName, limitRefusal } from './refusal.ts';

/** Counting stops here: enough to name the size of anything a 1 MB body can hold. */
const COUNT_CEILING = 1_000_000;

function countTokens(body: string): { count: number; exact: boolean } {
  const lexer = new Lexer(new Source(body));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      if (++count >= COUNT_CEILING) return { count, exact: false };
    }
    return { count, exact: true };
  } catch {
    // A character the lexer refuses ends the count: the document has at least this many.
    return { count, exact: false };
  }
}

function tokenRefusal(body: string, bound: number): GraphQLError | null {
  const { count, exact } = countTokens(body);
  if (count <= bound) return null;
  const amount = exact ? `${count}` : `at least ${count}`;
  return limitRefusal('tokens', `Document has ${amount} tokens, over the limit of ${bound}.`, count, bound);
}

/**
 * The parser stops at the token limit, so that neither a long nor a deeply nested document is ever read
 * whole: nesting cannot go deeper than the tokens allow, which keeps every later recursive walk (validation,
 * depth, cost) shallow. The tokens are counted again only to word a refusal.
 */
function limitedParse(bound: number) {
  return (source: string | Source, options?: Parameters<typeof parse>[1]) => {
    try {
      return parse(source, { ...options, maxTokens: bound });
    } catch (err) {
      const body = typeof source === 'string' ? source : source.body;
      const refusal = tokenRefusal(body, bound);
      if (refusal) throw refusal;
      // Reading a document is recursive; with a sane token limit this never happens, and must not be a 500.
      if (err instanceof RangeError) throw inputRefusal('Document is nested too deeply to be read.');
      throw err;
    }
  };
}

/** GraphQL Armor words its refusals "… limit of N exceeded, found M."; the count is taken from there. */
function foundIn(error: GraphQLError): number | null {
  const match = /found (\d+)/.exec(error.message);
  return match ? Number(match[1]) : null;
}

function reportTo(limit: LimitName, bound: number, describe: (found: string) => string) {
  return [
    (context: ValidationContext | null, error: GraphQLError) => {
      const found = foundIn(error);
      const message = describe(found === null ? `more than ${bound}` : String(found));
      context?.reportError(limitRefusal(limit, message, found ?? bound + 1, bound));
    },
  ];
}

/**
 * Depth, aliases, directives and tokens of a document. They depend on the document alone, so caching their
 * verdict per document is right; cost is not, and lives in the operation guard.
 */
export function useDocumentLimits(limits: DocumentLimits): Plugin {
  const { depth, aliases, directives, tokens } = limits;
  const rules = [
    maxDepthRule({
      n: depth,
      ignoreIntrospection: true,
      flattenFragments: true,
      propagateOnRejection: false,
      onReject: reportTo('depth', depth, (n) => `Query depth ${n} is over the limit of ${depth}.`),
    }),
    maxAliasesRule({
      n: aliases,
      // Aliases of __typename count too: each is one more field in the answer.
      allowList: [],
      propagateOnRejection: false,
      onReject: reportTo('aliases', aliases, (n) => `Query has ${n} aliases, over the limit of ${aliases}.`),
    }),
    maxDirectivesRule({
      n: directives,
      propagateOnRejection: false,
      onReject: reportTo(
        'directives',
        directives,
        (n) => `Query has ${n} directives, over the limit of ${directives}.`,
      ),
    }),
  ];
  const parseWithLimit = limitedParse(tokens);
  return {
    onParse({ setParseFn }) {
      setParseFn(parseWithLimit);
    },
    onValidate({ addValidationRule }) {
      for (const rule of rules) addValidationRule(rule);
    },
  };
}
