/**
 * Runs `work` one at a time: a call while it runs is folded into one more run right after it, so every
 * caller's request is covered by a run that started after it, and no two runs overlap.
 */
export class SingleFlight {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.work();
        } while (this.again);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** The run under way, if any (to wait for it when stopping). */
  get current(): Promise<void> | undefined {
    return this.running;
  }
}
