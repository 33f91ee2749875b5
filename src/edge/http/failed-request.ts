import type { ServerResponse } from 'node:http';
import { log } from '../../base/log.ts';

/** Codes of a request that ended on the client's side (gone, aborted, or cut for being too slow). */
const CLIENT_GONE = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

function endedByClient(err: unknown, res: ServerResponse): boolean {
  const { code, message, name } = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  return (
    (typeof code === 'string' && CLIENT_GONE.has(code)) ||
    message === 'aborted' ||
    name === 'AbortError' ||
    res.destroyed ||
    res.socket?.destroyed === true
  );
}

/**
 * A request that failed outside GraphQL. One the client abandoned (or the server cut for being too slow)
 * is routine: one line, and nothing to answer. Anything else is a fault: logged in full, answered 500.
 */
export function answerFailedRequest(err: unknown, res: ServerResponse): void {
  if (endedByClient(err, res)) {
    const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
    log.info(`request ended before its answer: ${String(code ?? message ?? 'connection closed')}`);
    if (!res.writableEnded) res.destroy();
    return;
  }
  log.error('request failed', err);
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
}
