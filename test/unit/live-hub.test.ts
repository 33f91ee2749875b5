import { describe, expect, it } from 'vitest';
import { LiveHub, RETRY_MAX_MS, retryDelay } from '../../src/live/live-hub.ts';
import type { ProductSource } from '../../src/live/product-snapshot.ts';
import type { Readers } from '../../src/read/readers.ts';
import { FakeClock, settle } from '../helpers/fake-clock.ts';

const WINDOW = 100;

/** A snapshot source the test answers by hand: each call waits until the test resolves or fails it. */
class ManualSource implements ProductSource {
  readonly calls: { productId: number; resolve(tag: string): void; reject(err: Error): void }[] = [];
  inFlight = 0;
  maxInFlight = 0;

  fresh(): Readers {
    return { tag: 'fresh' } as unknown as Readers;
  }

  snapshot(productId: number): Promise<Readers> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<Readers>((resolve, reject) => {
      this.calls.push({
        productId,
        resolve: (tag) => resolve({ tag } as unknown as Readers),
        reject,
      });
    }).finally(() => this.inFlight--);
  }

  last() {
    const call = this.calls.at(-1);
    if (!call) throw new Error('no snapshot was asked for');
    return call;
  }
}

function setup() {
  const clock = new FakeClock();
  const source = new ManualSource();
  const logged: string[] = [];
  const log = {
    warn: (m: string) => logged.push(`warn ${m}`),
    info: (m: string) => logged.push(`info ${m}`),
  };
  const hub = new LiveHub(source, { mergeWindowMs: WINDOW, log, clock });
  return { clock, source, logged, hub };
}

/** Collects what a watcher receives, by the tag of the readers it was handed. */
function receive(stream: AsyncIterableIterator<{ readers: Readers }>): string[] {
  const got: string[] = [];
  void (async () => {
    for await (const event of stream) got.push((event.readers as unknown as { tag: string }).tag);
  })();
  return got;
}

describe('merge window', () => {
  it('sends the first change at once and merges the changes of the next window into one recomputation', async () => {
    const { clock, source, hub } = setup();
    const got = receive(hub.watch(1));
    await clock.advance(0);
    hub.changed([1]);
    await clock.advance(0);
    expect(source.calls).toHaveLength(1);
    source.last().resolve('v1');
    await settle();
    for (let i = 0; i < 5; i++) {
      hub.changed([1]);
      await clock.advance(10);
    }
    expect(source.calls).toHaveLength(1);
    await clock.advance(WINDOW - 50);
    expect(source.calls).toHaveLength(2);
    source.last().resolve('v2');
    await settle();
    expect(got).toEqual(['fresh', 'v1', 'v2']);
  });

  it('ignores changes to products nobody here watches', async () => {
    const { clock, source, hub } = setup();
    hub.watch(1);
    hub.changed([2, 3]);
    await clock.advance(WINDOW * 3);
    expect(source.calls).toHaveLength(0);
    expect(clock.pending().count).toBe(0);
  });
});

describe('order under overlapping changes', () => {
  it('never recomputes one product twice at once, so an older snapshot never follows a newer one', async () => {
    const { clock, source, hub } = setup();
    const got = receive(hub.watch(1));
    hub.changed([1]);
    await clock.advance(0);
    const first = source.last();
    // Changes keep coming while the first recomputation is still reading.
    for (let i = 0; i < 5; i++) {
      hub.changed([1]);
      await clock.advance(WINDOW);
    }
    expect(source.calls).toHaveLength(1);
    first.resolve('older');
    await settle();
    await clock.advance(WINDOW);
    expect(source.calls).toHaveLength(2);
    source.last().resolve('newer');
    await settle();
    expect(got).toEqual(['fresh', 'older', 'newer']);
    expect(source.maxInFlight).toBe(1);
  });

  it('lets other products go on while one is stuck', async () => {
    const { clock, source, hub } = setup();
    hub.watch(1);
    const other = receive(hub.watch(2));
    hub.changed([1]);
    await clock.advance(0);
    hub.changed([2]);
    await clock.advance(0);
    expect(source.calls.map((c) => c.productId)).toEqual([1, 2]);
    source.calls[1]!.resolve('two');
    await settle();
    expect(other).toEqual(['fresh', 'two']);
  });
});

describe('retry', () => {
  it('backs off 50, 100, 200, 400, then every 500 ms', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(retryDelay)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(RETRY_MAX_MS).toBe(500);
  });

  it('retries a failed recomputation for as long as it fails, logs once, and delivers when it works', async () => {
    const { clock, source, logged, hub } = setup();
    const got = receive(hub.watch(1));
    hub.changed([1]);
    await clock.advance(0);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      source.last().reject(new Error('canceling statement due to statement timeout'));
      await settle();
      const { nextInMs } = clock.pending();
      delays.push(nextInMs!);
      await clock.advance(nextInMs!);
    }
    expect(delays).toEqual([50, 100, 200, 400, 500, 500, 500, 500]);
    expect(source.calls).toHaveLength(9);
    expect(got).toEqual(['fresh']);
    source.last().resolve('after the outage');
    await settle();
    expect(got).toEqual(['fresh', 'after the outage']);
    expect(logged.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(logged.filter((l) => l.startsWith('info'))).toHaveLength(1);
    expect(logged[1]).toMatch(/answers again after 2750 ms and 8 failed attempt/);
    // Nothing left to do: no timer keeps running.
    expect(clock.pending().count).toBe(0);
  });

  it('a change during an outage waits for the retry, not for the merge window', async () => {
    const { clock, source, hub } = setup();
    hub.watch(1);
    hub.changed([1]);
    await clock.advance(0);
    source.last().reject(new Error('connection terminated'));
    await settle();
    hub.changed([1]);
    await clock.advance(49);
    expect(source.calls).toHaveLength(1);
    await clock.advance(1);
    expect(source.calls).toHaveLength(2);
  });

  it('stops retrying once the last watcher has gone', async () => {
    const { clock, source, hub } = setup();
    const stream = hub.watch(1);
    hub.changed([1]);
    await clock.advance(0);
    await stream.return?.();
    source.last().reject(new Error('down'));
    await settle();
    await clock.advance(RETRY_MAX_MS * 4);
    expect(source.calls).toHaveLength(1);
    expect(hub.watchedProducts()).toBe(0);
    expect(clock.pending().count).toBe(0);
  });
});
