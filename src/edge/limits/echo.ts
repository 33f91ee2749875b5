import { type ExecutionResult, GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';

/**
 * Error messages may quote what the client sent (a field name, an id, a value, a whole literal). Whatever
 * produced them, every message leaves the service through here: quoted or unbroken runs are shortened to
 * SEGMENT characters and the whole message to MESSAGE, so no message repeats more than 100 characters of
 * the input.
 */
const SEGMENT = 40;
const MESSAGE = 100;
const ELLIPSIS = '…';

const cut = (text: string, length: number) =>
  text.length > length ? `${text.slice(0, length)}${ELLIPSIS}` : text;

export function boundMessage(message: string): string {
  if (message.length <= SEGMENT) return message;
  const shortened = message
    .replace(/"((?:[^"\\]|\\.)*)"/g, (_, inner: string) => `"${cut(inner, SEGMENT)}"`)
    .replace(/[^\s"]{41,}/g, (run) => cut(run, SEGMENT));
  return cut(shortened, MESSAGE);
}

function boundError<E extends GraphQLError | GraphQLFormattedError>(error: E): E {
  const message = boundMessage(error.message);
  if (message === error.message) return error;
  if (error instanceof GraphQLError) return withMessage(error, message) as E;
  return { ...error, message };
}

/** The same error, located as it was, with another message (and, if given, other extensions). */
export function withMessage(
  error: GraphQLError,
  message: string,
  extensions: GraphQLError['extensions'] = error.extensions,
): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

export function boundErrors<E extends GraphQLError | GraphQLFormattedError>(errors: readonly E[]): E[] {
  return errors.map(boundError);
}

export function boundResult<R extends { errors?: readonly (GraphQLError | GraphQLFormattedError)[] }>(
  result: R,
): R {
  return result.errors?.length ? { ...result, errors: boundErrors(result.errors) } : result;
}

/** Every HTTP answer, single, batched or streamed (Server-Sent Events), on its way out. */
export function useBoundedErrorMessages(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) {
        setResult(mapAsyncIterator(result, (item: ExecutionResult) => boundResult(item)));
      } else if (Array.isArray(result)) {
        setResult(result.map((item) => boundResult(item)));
      } else {
        setResult(boundResult(result));
      }
    },
  };
}
