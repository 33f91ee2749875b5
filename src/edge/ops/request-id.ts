import { randomUUID } from 'node:crypto';

const MAX_LENGTH = 64;
const SAFE = /^[A-Za-z0-9._:-]+$/;

/**
 * The request id: the caller's (or the load balancer's) `x-request-id` when it is short and made of safe
 * characters, so one id follows a request across services; otherwise a fresh one. Never echoes anything
 * that could break a log line or a header.
 */
export function requestIdFrom(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  if (given && given.length <= MAX_LENGTH && SAFE.test(given)) return given;
  return randomUUID();
}
