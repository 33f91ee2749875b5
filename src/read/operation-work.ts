/** A read asked for after its operation's answer was decided: it never starts. */
export class WorkCancelled extends Error {
  constructor() {
    super('The operation has already been answered: this read was not started');
  }
}

/**
 * The reads of one operation. graphql answers as soon as a non-null root field fails, while its sibling
 * fields' reads go on (and would start more reads as they resolve): once the answer is decided, `close`
 * refuses every read not yet started and resolves when those under way have ended, so that the operation
 * keeps its admission until then and a client cannot leave work behind in the pool faster than it runs.
 * What those reads return is dropped (their callers get the cancellation): the answer is already made.
 */
export class OperationWork {
  #running = 0;
  /** What a refused read rejects with: one instance for them all, so that a refusal costs no stack trace. */
  readonly #cancelled: Error;
  #closed = false;
  #idle: (() => void) | undefined;
  #whenIdle: Promise<void> | undefined;

  constructor(cancelled: Error = CANCELLED) {
    this.#cancelled = cancelled;
  }

  /** Reads under way now. */
  get running(): number {
    return this.#running;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts `read` unless the operation has been answered; it counts as under way until it settles. */
  track<T>(read: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#cancelled);
    let started: Promise<T>;
    try {
      started = read();
    } catch (err) {
      return Promise.reject(err);
    }
    this.#running++;
    // A read that ends after the answer was decided is not handed on: graphql would resolve a whole
    // subtree from it (and start its reads) for an answer already sent.
    return started.then(
      (value) => {
        this.#ended();
        if (this.#closed) throw this.#cancelled;
        return value;
      },
      (err: unknown) => {
        this.#ended();
        throw this.#closed ? this.#cancelled : err;
      },
    );
  }

  #ended(): void {
    this.#running--;
    if (this.#running === 0) this.#idle?.();
  }

  /** No read starts after this; resolves once the reads under way have ended. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#running === 0) return Promise.resolve();
    this.#whenIdle ??= new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
    return this.#whenIdle;
  }
}

const CANCELLED = new WorkCancelled();
