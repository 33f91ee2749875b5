import { GraphQLError, type GraphQLErrorOptions } from 'graphql';

/**
 * An error the caller caused and is answered with: nothing went wrong inside, so it carries no stack.
 * Capturing one is most of what making such an error costs, and refusals are what a flood is made of.
 */
export function callerError(message: string, options: GraphQLErrorOptions): GraphQLError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new GraphQLError(message, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
