import { describe, expect, it } from 'vitest';
import { andThen, both, Loader } from '../../src/read/loader.ts';

/** A loader over squares that records each batch it was asked for. */
function squares() {
  const batches: number[][] = [];
  const loader = new Loader<number, number>(async (keys) => {
    batches.push([...keys]);
    return keys.map((k) => k * k);
  });
  return { loader, batches };
}

describe('Loader', () => {
  it('batches loads made together, and answers settled keys without a promise', async () => {
    const { loader, batches } = squares();
    const pending = [loader.get(2), loader.get(3)];
    expect(pending[0]).toBeInstanceOf(Promise);
    expect(await Promise.all(pending)).toEqual([4, 9]);
    expect(batches).toEqual([[2, 3]]);
    expect(loader.get(3)).toBe(9);
    expect(await loader.load(3)).toBe(9);
    expect(batches).toHaveLength(1);
  });

  it('fills what is missing in one batch, waits for what is on its way, and asks nothing twice', async () => {
    const { loader, batches } = squares();
    const onItsWay = loader.load(5);
    await loader.fill([1, 2, 2, 5, 1]);
    expect(await onItsWay).toBe(25);
    expect(batches.map((b) => b.sort()).sort()).toEqual([[1, 2], [5]]);
    expect([1, 2, 5].map((k) => loader.get(k))).toEqual([1, 4, 25]);
    await loader.fill([1, 2, 5]);
    expect(batches).toHaveLength(2);
  });

  it('keeps a value already read when primed, like DataLoader, and forgets it when cleared', async () => {
    const { loader, batches } = squares();
    await loader.fill([4]);
    loader.prime(4, -1).prime(6, 100);
    expect(loader.get(4)).toBe(16);
    expect(loader.get(6)).toBe(100);
    expect(await loader.load(6)).toBe(100);
    loader.clear(4);
    expect(loader.peek(4)).toBeUndefined();
    expect(await loader.get(4)).toBe(16);
    expect(batches).toEqual([[4], [4]]);
  });

  it('settles nothing when a batch fails, so the next read asks again', async () => {
    let fail = true;
    const loader = new Loader<number, number>(async (keys) => {
      if (fail) throw new Error('database away');
      return keys.map((k) => k + 1);
    });
    await expect(loader.fill([1])).rejects.toThrow('database away');
    await expect(loader.load(2)).rejects.toThrow('database away');
    fail = false;
    expect(loader.peek(1)).toBeUndefined();
    expect(await loader.get(2)).toBe(3);
    await loader.fill([1]);
    expect(loader.get(1)).toBe(2);
  });
});

describe('andThen and both', () => {
  it('stay synchronous for plain values and wait for promises', async () => {
    expect(andThen(2, (n) => n + 1)).toBe(3);
    expect(both(1, 'a')).toEqual([1, 'a']);
    const later = andThen(Promise.resolve(2), (n) => n + 1);
    expect(later).toBeInstanceOf(Promise);
    expect(await later).toBe(3);
    expect(await both(1, Promise.resolve('b'))).toEqual([1, 'b']);
  });
});
