import { GraphQLError } from 'graphql';

/** Edge validation: bounds from the contract. A refused request never reaches the domain, so writes nothing. */

export function badInput(message: string, field: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field } });
}

export function intInRange(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw badInput(`${field} must be between ${min} and ${max}, got ${value}`, field);
  }
  return value;
}

export function optionalIntInRange(
  field: string,
  value: number | null | undefined,
  min: number,
  max: number,
) {
  return value === null || value === undefined ? value : intInRange(field, value, min, max);
}

export function nonZeroDelta(field: string, value: number, bound: number): number {
  intInRange(field, value, -bound, bound);
  if (value === 0) throw badInput(`${field} must not be 0`, field);
  return value;
}

export function stringLength(field: string, value: string, min: number, max: number): string {
  const length = [...value].length;
  if (length < min || length > max) {
    throw badInput(`${field} must be ${min} to ${max} characters long, got ${length}`, field);
  }
  return value;
}

export function text(field: string, value: string, max: number): string {
  const trimmed = value.trim();
  return stringLength(field, trimmed, 1, max);
}

const SKU = /^[A-Za-z0-9._-]{1,64}$/;

export function sku(value: string): string {
  if (!SKU.test(value)) {
    throw badInput('sku must be 1 to 64 letters, digits, ".", "_" or "-"', 'sku');
  }
  return value;
}

export const BOUNDS = {
  orderLineQuantity: 100_000,
  orderLines: 50,
  shipmentQuantity: 1_000_000,
  adjustDelta: 1_000_000,
  counter: 1_000_000,
  leadTimeDays: 3_650,
  name: 200,
  reason: 500,
  idempotencyKey: 255,
  pageSize: 100,
} as const;
