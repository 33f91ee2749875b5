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
    const first = work.track(() => a.promise).catch((err: Error) => err);
    const second = work.track(() => b.promise).catch((err: Error) => err);
    expect(work.running).toBe(2);
    let closed = false;
    const closing = work.close().then(() => {
      closed = true;
    });
    a.resolve(1);
    // Ended after the answer was decided: its value is not handed on.
    expect(await first).toBeInstanceOf(WorkCancelled);
    await Promise.resolve();
    expect(closed).toBe(false);
    b.reject(new Error('read failed'));
    expect(await second).toBeInstanceOf(WorkCancelled);
    await closing;
    expect(closed).toBe(true);
    expect(work.running).toBe(0);
  });

  it('a read that ends before close hands on its value or its error', async () => {
    const work = new OperationWork();
    expect(await work.track(async () => 7)).toBe(7);
    await expect(work.track(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await work.close();
  });

  it('rejects with the error it was given, the same instance every time', async () => {
    const answered = new Error('answered');
    const work = new OperationWork(answered);
    await work.close();
    const errors = await Promise.all([1, 2].map(() => work.track(async () => 1).catch((err) => err)));
    expect(errors).toEqual([answered, answered]);
    expect(errors[0]).toBe(errors[1]);
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
