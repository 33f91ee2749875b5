import type { AdmissionSettings } from '../settings/abuse-limits.ts';

export type Admitted = { release(): void };
export type AdmissionVerdict = Admitted | { refused: 'costInFlight' | 'costPerCaller'; waitedMs: number };

interface Waiter {
  caller: string;
  cost: number;
  resolve(verdict: AdmissionVerdict): void;
  timer: NodeJS.Timeout;
  since: number;
}

/**
 * How much expensive work runs at once, by estimated cost: at most `costInFlight` in total and
 * `costPerCaller` for one caller. Operations at or under `fastLaneCost` never wait and are not counted, so
 * cheap requests keep flowing while expensive ones queue. An operation costing more than a cap runs alone:
 * when nothing else counted is in flight (for the total cap) or nothing else of its caller (per caller).
 * Waiters are served first come, first served; one that waits longer than `maxWaitMs` is refused.
 */
export class Admission {
  // Counted costs are whole numbers above the fast lane, so a total above 0 means something runs.
  private total = 0;
  private readonly perCaller = new Map<string, number>();
  private readonly queue: Waiter[] = [];

  constructor(private readonly settings: AdmissionSettings) {}

  /** Cost in flight now, all callers (for tests and the bench). */
  get inFlight(): number {
    return this.total;
  }

  get waiting(): number {
    return this.queue.length;
  }

  admit(caller: string, cost: number): AdmissionVerdict | Promise<AdmissionVerdict> {
    if (!this.settings.enabled || cost <= this.settings.fastLaneCost) return FREE;
    // Nobody may overtake those already waiting.
    if (this.queue.length === 0 && this.fits(caller, cost)) return this.start(caller, cost);
    return new Promise<AdmissionVerdict>((resolve) => {
      const waiter: Waiter = {
        caller,
        cost,
        resolve,
        since: Date.now(),
        timer: setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          resolve({
            refused: this.whyNot(caller, cost) ?? 'costInFlight',
            waitedMs: Date.now() - waiter.since,
          });
          // The head may have been what held the others back.
          this.drain();
        }, this.settings.maxWaitMs),
      };
      this.queue.push(waiter);
      // Others may be waiting only for their own callers' share: this one can still go now.
      this.drain();
    });
  }

  private fits(caller: string, cost: number): boolean {
    return this.whyNot(caller, cost) === null;
  }

  private whyNot(caller: string, cost: number): 'costInFlight' | 'costPerCaller' | null {
    const mine = this.perCaller.get(caller) ?? 0;
    if (mine > 0 && mine + cost > this.settings.costPerCaller) return 'costPerCaller';
    if (this.total > 0 && this.total + cost > this.settings.costInFlight) return 'costInFlight';
    return null;
  }

  private start(caller: string, cost: number): Admitted {
    this.total += cost;
    this.perCaller.set(caller, (this.perCaller.get(caller) ?? 0) + cost);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total -= cost;
        const mine = this.perCaller.get(caller)! - cost;
        if (mine === 0) this.perCaller.delete(caller);
        else this.perCaller.set(caller, mine);
        this.drain();
      },
    };
  }

  /**
   * Starts waiters in order. One blocked only by its own caller's share does not hold back other callers;
   * one blocked by the total cap does (otherwise a stream of smaller operations could starve it).
   */
  private drain(): void {
    const blockedCallers = new Set<string>();
    for (let i = 0; i < this.queue.length; ) {
      const w = this.queue[i]!;
      const why = blockedCallers.has(w.caller) ? 'costPerCaller' : this.whyNot(w.caller, w.cost);
      if (why === 'costInFlight') return;
      if (why === 'costPerCaller') {
        blockedCallers.add(w.caller);
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      clearTimeout(w.timer);
      w.resolve(this.start(w.caller, w.cost));
    }
  }
}

const FREE: Admitted = { release: () => {} };
