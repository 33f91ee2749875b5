import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

function parseDate(value: unknown): Date {
  if (typeof value !== 'string') {
    throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new GraphQLError(`"${value}" is not an ISO 8601 date-time`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'An instant, ISO 8601 in UTC (e.g. 2026-12-01T09:00:00.000Z).',
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be an ISO 8601 string', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return parseDate(ast.value);
  },
});
