import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLError } from 'graphql';
import { log } from '../../base/log.ts';
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

/** What a refusal says besides its status and message: BAD_USER_INPUT unless told. */
export interface Refusal {
  code?: string;
  /** More of the error's extensions (for instance which limit refused it). */
  extensions?: Record<string, unknown>;
  /** More response headers (for instance Retry-After). */
  headers?: Record<string, string>;
}

/**
 * Answers with an error and closes the connection without a reset: the answer goes out at once, then what
 * the client still sends is read and dropped until its body ends. Closing with unread bytes pending would
 * make the kernel send a reset, and the client would see a broken connection instead of the answer.
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  { code = 'BAD_USER_INPUT', extensions = {}, headers = {} }: Refusal = {},
): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code, ...extensions } }] });
  res.writeHead(status, {
    ...headers,
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

/**
 * Refuses a request for now with a busyRefusal (429 RATE_LIMITED or 503 OVERLOADED, Retry-After, the limit
 * named) before its body is read: answered at once and drained, never reset.
 */
export function refuseBusy(req: IncomingMessage, res: ServerResponse, error: GraphQLError): void {
  const { http, code, ...extensions } = error.extensions as {
    http?: { status?: number; headers?: Record<string, string> };
    code?: string;
  };
  refuse(req, res, http?.status ?? 503, error.message, { code, extensions, headers: http?.headers });
}

function logCut(req: IncomingMessage, received: number, startedAt: number): void {
  if (wasCutForSlowness(req.socket)) return;
  log.info(
    `request body cut short: ${req.method} ${req.url?.slice(0, 100)} after ${received} bytes in ${Date.now() - startedAt} ms`,
  );
}

/** Holds admission for a body of this many bytes while it is read and parsed; the refusal when refused. */
export type BodyAdmission = (bytes: number) => Promise<{ release(): void } | GraphQLError>;

/**
 * The body of a JSON POST, parsed: at most `limit` bytes, counted as they arrive (so a chunked body without
 * a length meets the same limit). It holds `admit`'s share by its size while it is read and parsed (a
 * chunked one, whose size is known only once read, while it is parsed). Null when the request was answered
 * here (415, 413, 503 when admission refuses, 400 for JSON that is malformed, not an object, or a batch) or
 * the client went away.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  admit?: BodyAdmission,
): Promise<object | null> {
  if (!isJsonContentType(req.headers['content-type'])) {
    refuse(req, res, 415, 'Only application/json request bodies are accepted');
    return null;
  }
  const declared = req.headers['content-length'];
  if (Number(declared ?? 0) > limit) {
    refuse(req, res, 413, `Request body is larger than ${limit} bytes`);
    return null;
  }
  let ticket: { release(): void } | undefined;
  try {
    if (admit && declared !== undefined) {
      const admitted = await admit(Number(declared));
      if (!('release' in admitted)) {
        refuseBusy(req, res, admitted);
        return null;
      }
      ticket = admitted;
    }
    const bytes = await readBytes(req, res, limit);
    if (bytes === null) return null;
    if (admit && !ticket) {
      const admitted = await admit(bytes.length);
      if (!('release' in admitted)) {
        refuseBusy(req, res, admitted);
        return null;
      }
      ticket = admitted;
    }
    return parseJson(req, res, bytes);
  } finally {
    ticket?.release();
  }
}

/**
 * What the HTTP adapter gets as the request's body. Parsed here, so that a body costs what parsing it
 * costs: handed a Buffer (or an array), the adapter would enumerate its keys, one string per byte (or
 * element). An empty object has no keys to enumerate, and the adapter would then read the (consumed)
 * stream instead: it goes on as its two bytes, for GraphQL to refuse as it would.
 */
function parseJson(req: IncomingMessage, res: ServerResponse, bytes: Buffer): object | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    // The parser's message quotes the input: it is not repeated.
    refuse(req, res, 400, 'Request body is not valid JSON');
    return null;
  }
  if (Array.isArray(parsed)) {
    refuse(req, res, 400, 'Batching is not supported: send one operation per request');
    return null;
  }
  if (parsed === null || typeof parsed !== 'object') {
    refuse(req, res, 400, 'Request body must be a JSON object');
    return null;
  }
  return Object.keys(parsed).length > 0 ? parsed : Buffer.from('{}');
}

/** The raw bytes of a body of at most `limit` bytes; null when answered here (413) or the client went away. */
function readBytes(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Buffer | null> {
  const tooLarge = `Request body is larger than ${limit} bytes`;
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
