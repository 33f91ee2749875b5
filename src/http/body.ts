import type { IncomingMessage, ServerResponse } from 'node:http';
import { log } from '../log.ts';
import { wasCutForSlowness } from './slow-clients.ts';

/** After a refusal, a client may go on sending; past this many bytes the connection is cut, not drained. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Only `application/json` (utf-8) bodies are read. Forms, multipart and text/plain are what a browser sends
 * to any site without asking first (no CORS preflight), so refusing them keeps every mutation out of reach
 * of another site's form.
 */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((param) => !param.startsWith('charset=') || /^charset="?utf-?8"?$/.test(param));
}

/**
 * Answers with an error and closes the connection without a reset: the answer goes out at once, then what
 * the client still sends is read and dropped until its body ends. Closing with unread bytes pending would
 * make the kernel send a reset, and the client would see a broken connection instead of the answer.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'BAD_USER_INPUT' } }] });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  if (req.complete || req.readableEnded) {
    res.end(body);
    return;
  }
  res.write(body);
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DRAIN_LIMIT_BYTES) req.socket.destroy();
  });
  req.once('end', () => res.end());
  req.on('error', () => {});
  req.resume();
}

function logCut(req: IncomingMessage, received: number, startedAt: number): void {
  if (wasCutForSlowness(req.socket)) return;
  log.info(
    `request body cut short: ${req.method} ${req.url?.slice(0, 100)} after ${received} bytes in ${Date.now() - startedAt} ms`,
  );
}

/**
 * The body of a JSON POST, at most `limit` bytes, counted as it arrives (so a chunked body without a length
 * meets the same limit). Null when the request was answered here (415, 413) or the client went away.
 */
export function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Buffer | null> {
  if (!isJsonContentType(req.headers['content-type'])) {
    refuse(req, res, 415, 'Only application/json request bodies are accepted');
    return Promise.resolve(null);
  }
  const tooLarge = `Request body is larger than ${limit} bytes`;
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    refuse(req, res, 413, tooLarge);
    return Promise.resolve(null);
  }
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      done(null);
      refuse(req, res, 413, tooLarge);
    };
    const onEnd = () => done(Buffer.concat(chunks));
    const onClose = () => {
      if (req.complete) return;
      logCut(req, size, startedAt);
      done(null);
    };
    const done = (result: Buffer | null) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(result);
    };
    // An aborted body also surfaces as an error on the request; 'close' is where it is handled.
    req.on('error', () => {});
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}
