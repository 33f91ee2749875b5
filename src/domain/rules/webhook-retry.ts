/** When a failed delivery is tried again: exponential backoff with jitter, capped, then given up. */
export interface RetryPolicy {
  baseMs: number;
  capMs: number;
  /** Attempts in all; after the last failure the delivery is dead. */
  maxAttempts: number;
}

/**
 * The wait after the `attempts`-th failure: base doubled per attempt up to the cap, then a random point in
 * its upper half, so receivers coming back are not met by every sender at the same instant.
 */
export function backoffMs(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 40));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const isExhausted = (attempts: number, policy: RetryPolicy): boolean => attempts >= policy.maxAttempts;
