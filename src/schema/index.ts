import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import { resolveNodeIdsAtOnce } from './node-ids.ts';
import { freeWhereTheRoleShutsTheField } from './role-cost.ts';
import './scalars.ts';
import './errors.ts';
import './product.ts';
import './availability.ts';
import './stock.ts';
import './inbound.ts';
import './backorder.ts';
import './order.ts';
import './viewer.ts';
import './subscriptions.ts';
import './webhooks.ts';
import './notifications.ts';

export const schema = freeWhereTheRoleShutsTheField(resolveNodeIdsAtOnce(builder.toSchema()));

/** The committed schema/schema.graphql is exactly this. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
