import type { Plugin } from '@envelop/core';
import { type ExecutionArgs, type ExecutionResult, Kind, type OperationDefinitionNode, print } from 'graphql';
import { LatestValueStream } from '../base/latest-value-stream.ts';
import { log } from '../base/log.ts';
import type { Actor } from '../domain/types.ts';

type Subscribe = (
  args: ExecutionArgs,
) =>
  | Promise<AsyncIterable<ExecutionResult> | ExecutionResult>
  | AsyncIterable<ExecutionResult>
  | ExecutionResult;

/** Fields whose results depend on the caller's role only, never on who the caller is. */
const ROLE_ONLY_FIELDS = new Set(['productAvailabilityChanged']);

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Subscriptions that must see the same results share one execution: same document, variables and viewer. */
function groupKey(args: ExecutionArgs): string {
  const ctx = args.contextValue as { viewer: Actor | null };
  const operation = args.document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && (!args.operationName || d.name?.value === args.operationName),
  );
  const fields = operation?.selectionSet.selections.map((s) =>
    s.kind === Kind.FIELD ? s.name.value : '*',
  ) ?? ['*'];
  const roleOnly = fields.every((f) => ROLE_ONLY_FIELDS.has(f));
  const who = ctx.viewer ? (roleOnly ? ctx.viewer.role : `${ctx.viewer.role}:${ctx.viewer.id}`) : 'anonymous';
  return JSON.stringify([who, args.operationName ?? null, args.variableValues ?? {}, print(args.document)]);
}

class SharedExecution {
  private readonly members = new Set<LatestValueStream<ExecutionResult>>();
  private last: { result: ExecutionResult; json: string } | undefined;
  private ended = false;

  constructor(
    private readonly source: AsyncIterable<ExecutionResult>,
    private readonly onEmpty: () => void,
  ) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for await (const result of this.source) {
        const json = JSON.stringify(result);
        // A message only when what the subscription selected actually changed.
        if (json === this.last?.json) continue;
        this.last = { result, json };
        for (const member of this.members) member.push(result);
      }
    } catch (err) {
      log.error('shared subscription ended with an error', err);
    } finally {
      this.ended = true;
      for (const member of [...this.members]) member.close();
    }
  }

  join(): AsyncIterableIterator<ExecutionResult> | null {
    if (this.ended) return null;
    const member: LatestValueStream<ExecutionResult> = new LatestValueStream(() => {
      this.members.delete(member);
      if (this.members.size === 0) this.close();
    });
    this.members.add(member);
    if (this.last) member.push(this.last.result);
    return member;
  }

  private close(): void {
    this.onEmpty();
    const iterator = this.source[Symbol.asyncIterator]();
    void iterator.return?.();
  }
}

/**
 * Identical subscriptions (same selection, variables and viewer) share one execution per event and get
 * its result; each gets a message only when the result changed. Works for WebSocket and SSE alike.
 */
export function useSharedSubscriptions(): Plugin {
  const groups = new Map<string, Promise<SharedExecution | ExecutionResult>>();
  return {
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      const subscribe = subscribeFn as unknown as Subscribe;
      const shared: Subscribe = async (args) => {
        const key = groupKey(args);
        for (;;) {
          let group = groups.get(key);
          if (!group) {
            // graphql-js answers synchronously when every subscribe resolver on the path is synchronous.
            group = Promise.resolve(subscribe(args)).then((result) =>
              isAsyncIterable(result) ? new SharedExecution(result, () => groups.delete(key)) : result,
            );
            groups.set(key, group);
            // A refused subscription (an error result) is not kept for the next caller.
            void group
              .then((g) => g instanceof SharedExecution || groups.delete(key))
              .catch(() => groups.delete(key));
          }
          const resolved = await group;
          if (!(resolved instanceof SharedExecution)) return resolved;
          const member = resolved.join();
          if (member) return member;
          if (groups.get(key) === group) groups.delete(key);
        }
      };
      setSubscribeFn(shared as unknown as typeof subscribeFn);
    },
  };
}
