/**
 * An async iterable that holds at most one undelivered value: a slow consumer gets the newest state, never
 * a growing backlog. Ends on close() or when the consumer stops (return()).
 */
export class LatestValueStream<T> implements AsyncIterableIterator<T> {
  private value: { v: T } | undefined;
  private waiting: ((result: IteratorResult<T>) => void) | undefined;
  private closed = false;

  constructor(private readonly onClose: () => void = () => {}) {}

  push(value: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
    } else {
      this.value = { v: value };
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.value = undefined;
    this.onClose();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.value) {
      const { v } = this.value;
      this.value = undefined;
      return Promise.resolve({ value: v, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
