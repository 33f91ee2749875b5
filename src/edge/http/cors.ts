import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers a browser may send: the bearer token and the JSON body's type. */
const ALLOWED_HEADERS = 'authorization, content-type';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';

/**
 * Cross-origin access for browsers. Without a list, any origin may call, but never with credentials (the
 * service needs none: the token travels in a header the page sets itself). With a list, only those origins
 * get an answer they can read, with credentials, and an unlisted origin is never reflected.
 * Returns true when it answered the request (a preflight) itself.
 */
export function applyCors(
  origins: readonly string[] | null,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS';
  if (origins !== null) res.setHeader('vary', 'Origin');
  const allowed = origin !== undefined && (origins === null || origins.includes(origin));
  if (allowed) {
    res.setHeader('access-control-allow-origin', origins === null ? '*' : origin);
    if (origins !== null) res.setHeader('access-control-allow-credentials', 'true');
    // Clients told to wait (429, 503) must be able to read how long.
    res.setHeader('access-control-expose-headers', 'Retry-After');
  }
  if (!preflight) return false;
  if (origin !== undefined && !allowed) {
    res.writeHead(403, { 'content-length': '0' }).end();
    return true;
  }
  if (allowed) {
    res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
    res.setHeader('access-control-max-age', '600');
  }
  res.writeHead(204, { allow: ALLOWED_METHODS, 'content-length': '0' }).end();
  return true;
}
