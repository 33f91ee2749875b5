import { buildSchema, type ExecutionResult, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { LatestValueStream } from '../../src/base/latest-value-stream.ts';
import { useSharedSubscriptions } from '../../src/live/shared-executions.ts';

/**
 * A tiny schema whose subscriptions the test feeds by hand. `productAvailabilityChanged` is a field whose
 * result depends on the caller's role only; `backorderUpdated` depends on who the caller is.
 */
function setup() {
  const sources: { field: string; stream: LatestValueStream<number> }[] = [];
  const source = (field: string) => () => {
    const stream = new LatestValueStream<number>();
    sources.push({ field, stream });
    return stream;
  };
  const schema = buildSchema(`
    type Query { ok: Int }
    type Subscription { productAvailabilityChanged(productId: ID!): Int, backorderUpdated(id: ID!): Int }
  `);
  const subscription = schema.getSubscriptionType()!.getFields();
  subscription.productAvailabilityChanged!.subscribe = source('productAvailabilityChanged');
  subscription.productAvailabilityChanged!.resolve = (value: number) => value;
  subscription.backorderUpdated!.subscribe = source('backorderUpdated');
  subscription.backorderUpdated!.resolve = (value: number) => value;
  const yoga = createYoga({ schema, plugins: [useSharedSubscriptions()], logging: false });

  async function subscribe(query: string, variables: Record<string, unknown>, viewer: unknown) {
    const { subscribe, contextFactory } = yoga.getEnveloped({ viewer } as never);
    const result = await subscribe({
      schema,
      document: parse(query),
      variableValues: variables,
      contextValue: await contextFactory(),
    });
    if (!(Symbol.asyncIterator in (result as object))) throw new Error(JSON.stringify(result));
    const iterator = (result as AsyncIterableIterator<ExecutionResult>)[Symbol.asyncIterator]();
    return iterator;
  }
  return { sources, subscribe };
}

const WATCH = 'subscription W($p: ID!) { productAvailabilityChanged(productId: $p) }';
const MINE = 'subscription B($b: ID!) { backorderUpdated(id: $b) }';
const customer = (id: string) => ({ id, role: 'customer' });
const nextData = async (it: AsyncIterator<ExecutionResult>) => (await it.next()).value?.data;

describe('shared subscription executions', () => {
  it('runs one execution for identical subscriptions and gives each member every result', async () => {
    const { sources, subscribe } = setup();
    const a = await subscribe(WATCH, { p: '1' }, null);
    const b = await subscribe(WATCH, { p: '1' }, null);
    expect(sources).toHaveLength(1);
    sources[0]!.stream.push(7);
    expect(await nextData(a)).toEqual({ productAvailabilityChanged: 7 });
    expect(await nextData(b)).toEqual({ productAvailabilityChanged: 7 });
  });

  it('groups role-only fields by role, and everything else by who is asking', async () => {
    const { sources, subscribe } = setup();
    await subscribe(WATCH, { p: '1' }, customer('c-1'));
    await subscribe(WATCH, { p: '1' }, customer('c-2'));
    await subscribe(WATCH, { p: '1' }, { id: 's-1', role: 'staff' });
    await subscribe(WATCH, { p: '2' }, customer('c-1'));
    expect(sources.filter((s) => s.field === 'productAvailabilityChanged')).toHaveLength(3);
    await subscribe(MINE, { b: '9' }, customer('c-1'));
    await subscribe(MINE, { b: '9' }, customer('c-2'));
    await subscribe(MINE, { b: '9' }, customer('c-1'));
    expect(sources.filter((s) => s.field === 'backorderUpdated')).toHaveLength(2);
  });

  it('sends a member a message only when the result changed', async () => {
    const { sources, subscribe } = setup();
    const a = await subscribe(WATCH, { p: '1' }, null);
    const stream = sources[0]!.stream;
    stream.push(1);
    expect(await nextData(a)).toEqual({ productAvailabilityChanged: 1 });
    const next = a.next();
    let settled = false;
    void next.then(() => {
      settled = true;
    });
    stream.push(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    stream.push(2);
    expect((await next).value?.data).toEqual({ productAvailabilityChanged: 2 });
  });

  it('gives a late joiner the last result at once, and ends the execution when the last member leaves', async () => {
    const { sources, subscribe } = setup();
    const a = await subscribe(WATCH, { p: '1' }, null);
    sources[0]!.stream.push(5);
    await nextData(a);
    const late = await subscribe(WATCH, { p: '1' }, null);
    expect(await nextData(late)).toEqual({ productAvailabilityChanged: 5 });
    await a.return?.();
    await late.return?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The source was told to stop; a new subscriber starts a new execution.
    await subscribe(WATCH, { p: '1' }, null);
    expect(sources).toHaveLength(2);
  });
});
