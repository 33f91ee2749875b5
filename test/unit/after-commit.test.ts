import { describe, expect, it } from 'vitest';
import type { CommitListener, Writer } from '../../src/db/transaction.ts';
import type { DomainEvent } from '../../src/domain/rules/domain-events.ts';
import { followCommits } from '../../src/edge/app/after-commit.ts';
import type { LiveUpdates } from '../../src/live/live-updates.ts';
import type { OutboxRelay } from '../../src/outbox/relay.ts';
import type { WebhookJobs } from '../../src/outbox/webhook-jobs.ts';

function wired() {
  const listeners: CommitListener[] = [];
  const writer = {
    onCommit: (l: CommitListener) => {
      listeners.push(l);
      return () => listeners.splice(listeners.indexOf(l), 1);
    },
  } as unknown as Writer;
  const calls: string[] = [];
  const live = { committed: (e: readonly DomainEvent[]) => calls.push(`live ${e.length}`) };
  const outbox = {
    poke: async () => void calls.push('relay'),
    onDeliveries: undefined as (() => void) | undefined,
  };
  const webhooks = {
    committed: (e: readonly DomainEvent[]) => calls.push(`webhooks ${e.length}`),
    poke: () => calls.push('deliver'),
  };
  const stop = followCommits(writer, {
    live: live as unknown as LiveUpdates,
    outbox: outbox as unknown as OutboxRelay,
    webhooks: webhooks as unknown as WebhookJobs,
  });
  const commit = (events: DomainEvent[]) => {
    for (const l of listeners) l(events);
  };
  return { calls, commit, outbox, stop, listeners };
}

describe('after commit', () => {
  it('tells live updates, the relay and the webhook worker, in that order', () => {
    const { calls, commit } = wired();
    commit([{ type: 'StockAdjusted', productId: 1, delta: 1 }]);
    expect(calls).toEqual(['live 1', 'relay', 'webhooks 1']);
  });

  it("does not poke the relay for its own batch's notifications, so it cannot feed itself", () => {
    const { calls, commit } = wired();
    commit([{ type: 'NotificationsAdded', firstId: 1, lastId: 2 }]);
    expect(calls).toEqual(['live 1', 'webhooks 1']);
  });

  it('sends deliveries the relay queued at once, and lets go of everything when stopped', () => {
    const { calls, outbox, stop, listeners } = wired();
    outbox.onDeliveries?.();
    expect(calls).toEqual(['deliver']);
    stop();
    expect(listeners).toEqual([]);
    expect(outbox.onDeliveries).toBeUndefined();
  });
});
