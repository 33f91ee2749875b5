import { describe, expect, it } from 'vitest';
import { OperationWork, WorkCancelled } from '../../src/read/operation-work.ts';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('OperationWork', () => {
  it('close resolves only once every read under way has ended, failed ones included', async () => {
    const work = new OperationWork();
    const a = deferred<number>();
    const b = deferred<number>();
    const first = work.track(() => a.promise);
    const second = work.track(() => b.promise).catch((err: Error) => err.message);
    expect(work.running).toBe(2);
    let closed = false;
    const closing = work.close().then(() => {
      closed = true;
    });
    a.resolve(1);
    expect(await first).toBe(1);
    await Promise.resolve();
    expect(closed).toBe(false);
    b.reject(new Error('read failed'));
    expect(await second).toBe('read failed');
    await closing;
    expect(closed).toBe(true);
    expect(work.running).toBe(0);
  });

  it('a read asked for after close never starts', async () => {
    const work = new OperationWork();
    await work.close();
    let started = false;
    await expect(
      work.track(async () => {
        started = true;
      }),
    ).rejects.toBeInstanceOf(WorkCancelled);
    expect(started).toBe(false);
  });

  it('a read that throws before it returns a promise is not counted as under way', async () => {
    const work = new OperationWork();
    await expect(
      work.track(() => {
        throw new Error('bad arguments');
      }),
    ).rejects.toThrow('bad arguments');
    expect(work.running).toBe(0);
    await work.close();
  });
});
