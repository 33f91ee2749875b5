import type { Server } from 'node:http';
import { log } from '../../base/log.ts';

/** What a graceful stop does, in order; each part is the caller's. */
export interface ShutdownSteps {
  /** /ready answers 503 and new requests are refused from here on. */
  drain(): void;
  /** WebSockets closed with 1001 (going away); streams (SSE) ended; no new upgrades. */
  closeStreams(): Promise<void>;
  /** Resolves when the HTTP requests under way have been answered. */
  inFlightDone(): Promise<void>;
  server: Server | undefined;
  /** The change listener, then the database pools. */
  closeResources(): Promise<void>;
}

/** Resolves with true when done first, false when the time ran out. */
function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  return Promise.race([work.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Stops without dropping work: turns unready at once, refuses new requests, lets those under way finish,
 * closes sockets and streams, then the listener and the pools; all within timeoutMs. What is still running
 * when the time is up is cut (its connection closed), and the stop goes on.
 */
export async function shutDown(steps: ShutdownSteps, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Part of the time is kept for closing the pools once requests are done.
  const requestsUntil = deadline - Math.min(1_000, timeoutMs / 4);
  steps.drain();
  const streams = steps.closeStreams().catch((err) => log.warn('closing sockets failed', err));
  const answered = await within(requestsUntil - Date.now(), steps.inFlightDone());
  if (!answered) log.warn(`shutdown: requests still running after ${timeoutMs} ms were cut`);
  const server = steps.server;
  if (server) {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await within(deadline - Date.now(), closed);
  }
  await within(deadline - Date.now(), streams);
  if (!(await within(deadline - Date.now(), steps.closeResources()))) {
    log.warn(`shutdown: the listener and pools did not close within ${timeoutMs} ms`);
  }
}
