/**
 * Logs a failing dependency once per outage rather than once per attempt: the first failure with its
 * detail, then one line when it answers again, with how long it was down and how often it was tried.
 */
export class OutageLog {
  private since: number | undefined;
  private failures = 0;

  constructor(
    private readonly what: string,
    private readonly log: { warn(message: string, detail?: unknown): void; info?(message: string): void },
    private readonly now: () => number = Date.now,
  ) {}

  failed(err: unknown): void {
    this.failures++;
    if (this.since !== undefined) return;
    this.since = this.now();
    const reason = err instanceof Error ? err.message : String(err);
    this.log.warn(`${this.what} failed (retrying until it answers): ${reason}`);
  }

  succeeded(): void {
    if (this.since === undefined) return;
    const down = this.now() - this.since;
    const message = `${this.what} answers again after ${down} ms and ${this.failures} failed attempt(s)`;
    (this.log.info ?? this.log.warn).call(this.log, message);
    this.since = undefined;
    this.failures = 0;
  }
}
