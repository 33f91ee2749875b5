import type { GraphQLError } from 'graphql';
import { callerError } from '../../schema/caller-error.ts';

/** The document and operation limits; each has its own setting and README entry. */
export type LimitName = 'depth' | 'aliases' | 'tokens' | 'directives' | 'cost';

/**
 * A refused document or operation: BAD_USER_INPUT, naming the limit, the value and the bound. Marked as a
 * request error of the GraphQL over HTTP specification, so that it is HTTP 400 for a client that accepts
 * application/graphql-response+json and 200 for one that accepts only application/json.
 */
export function limitRefusal(limit: LimitName, message: string, value: number, bound: number): GraphQLError {
  return callerError(message, {
    extensions: { code: 'BAD_USER_INPUT', limit, value, bound, http: { spec: true, status: 400 } },
  });
}

/** Input the service will not take whatever the document: the same kind of request error. */
export function inputRefusal(message: string): GraphQLError {
  return callerError(message, {
    extensions: { code: 'BAD_USER_INPUT', http: { spec: true, status: 400 } },
  });
}

/**
 * Refused for now, not for what it asks: too often (RATE_LIMITED, HTTP 429) or while the service is busy
 * (OVERLOADED, HTTP 503). `extensions.limit` names the limit, so refusals can be counted by it; the same
 * error ends the operation alone over WebSocket and Server-Sent Events.
 */
export function busyRefusal(
  code: 'RATE_LIMITED' | 'OVERLOADED',
  limit: string,
  message: string,
  retryAfterSeconds: number,
): GraphQLError {
  return callerError(message, {
    extensions: {
      code,
      limit,
      retryAfter: retryAfterSeconds,
      http: {
        status: code === 'RATE_LIMITED' ? 429 : 503,
        headers: { 'Retry-After': String(retryAfterSeconds) },
      },
    },
  });
}
