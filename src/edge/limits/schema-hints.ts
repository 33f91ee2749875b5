import { BREAK, type DocumentNode, type ExecutionResult, GraphQLError, visit } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Actor } from '../../domain/types.ts';
import { roleOfSocket } from '../auth/socket-session.ts';
import { withMessage } from './echo.ts';

type Role = Actor['role'] | null;

export interface SchemaHintsOptions {
  /** Introspection for every caller; false: staff only. */
  introspection: boolean;
  /** "Did you mean" suggestions for every caller; false: staff only. */
  suggestions: boolean;
  /** The caller of an HTTP request whose context was never built (a document that failed validation). */
  roleOf(request: Request): Promise<Role>;
}

// graphql-js ends validation and coercion messages with these: `Did you mean "stock"?`, `Did you mean the
// enum value "ALLOW"?`, `Did you mean to use an inline fragment on "Node"?`. Cut to the end of the message,
// so a message already shortened elsewhere keeps no part of one either.
const SUGGESTION = /\s*Did you mean\b[\s\S]*$/;

const asksForSchemaCache = new WeakMap<DocumentNode, boolean>();

/** Whether a document reads the schema (`__schema`, `__type`); `__typename` is not the schema's shape. */
function asksForSchema(document: DocumentNode): boolean {
  let found = asksForSchemaCache.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      Field(node) {
        if (node.name.value !== '__schema' && node.name.value !== '__type') return undefined;
        found = true;
        return BREAK;
      },
    });
    asksForSchemaCache.set(document, found);
  }
  return found;
}

function hasSuggestion(errors: readonly { message: string }[] | undefined): boolean {
  return errors?.some((e) => e.message.includes('Did you mean')) ?? false;
}

/** The same error without the names graphql-js guessed from the schema. */
export function withoutSuggestions(error: GraphQLError): GraphQLError {
  if (!error.message.includes('Did you mean')) return error;
  return withMessage(error, error.message.replace(SUGGESTION, ''));
}

function hideIn<R extends ExecutionResult>(result: R): R {
  return hasSuggestion(result.errors)
    ? { ...result, errors: result.errors!.map(withoutSuggestions) }
    : result;
}

/**
 * Yoga caches validation results by document and by the names of the rules that ran. A socket that must
 * not see suggestions validates with this rule too, so its suggestion-free results are cached apart from
 * the ones staff get.
 */
function SuggestionsHidden() {
  return {};
}

/**
 * The schema's shape (introspection, and the names graphql-js suggests in error messages) for staff only,
 * unless the settings open it to all. Decided per request from the caller, never per document: the same
 * document is answered to staff and refused to a customer. Covers HTTP, SSE and WebSocket.
 */
export function useStaffOnlySchemaHints(options: SchemaHintsOptions): Plugin<{ viewer?: Actor | null }> {
  return {
    // Over WebSocket the caller is known before validation (it connected with its token).
    onValidate({ context, addValidationRule }) {
      const socket = (context as { extra?: { socket?: WebSocket } }).extra?.socket;
      if (options.suggestions || !socket || roleOfSocket(socket) === 'staff') return;
      addValidationRule(SuggestionsHidden);
      return ({ result, setResult }) => {
        if (hasSuggestion(result)) {
          setResult(
            result.map((error) => (error instanceof GraphQLError ? withoutSuggestions(error) : error)),
          );
        }
      };
    },
    onExecute({ args, setResultAndStopExecution }) {
      const staff = args.contextValue.viewer?.role === 'staff';
      if (!options.introspection && !staff && asksForSchema(args.document)) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError('Introspection is answered to staff only', {
              extensions: { code: 'FORBIDDEN' },
            }),
          ],
        });
        return;
      }
      if (options.suggestions || staff) return;
      // Variables that do not fit their type: graphql-js suggests enum values.
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(hideIn(result));
        },
      };
    },
    onSubscribe({ args }) {
      if (options.suggestions || args.contextValue.viewer?.role === 'staff') return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(hideIn(result));
        },
      };
    },
    // Over HTTP, a document that fails validation never gets a context: its caller is read here, only then.
    async onResultProcess({ request, result, setResult }) {
      if (options.suggestions || isAsyncIterable(result)) return;
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      if (!results.some((r) => hasSuggestion(r.errors))) return;
      if ((await options.roleOf(request)) === 'staff') return;
      const hidden = results.map(hideIn);
      setResult((Array.isArray(result) ? hidden : hidden[0]) as typeof result);
    },
  };
}
