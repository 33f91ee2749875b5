import { type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { log } from '../../base/log.ts';

const cut = new WeakSet<object>();
const responses = new WeakMap<object, ServerResponse>();

/** True when the server cut this connection (a request too slow, a malformed one) and logged it. */
export function wasCutForSlowness(socket: object): boolean {
  return cut.has(socket);
}

/** Lets the server know whether a connection's answer has begun, so that it never writes into one. */
export function trackResponse(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  responses.set(socket, res);
  res.once('close', () => {
    if (responses.get(socket) === res) responses.delete(socket);
  });
}

const STATUS_OF: Record<string, number> = {
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_HEADER_OVERFLOW: 431,
};

/**
 * Slow, aborted and malformed requests: one log line each (never a stack), then the status Node itself
 * would send (408 for a request that took longer than the timeouts allow) and the connection closed.
 */
export function watchSlowClients(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? 'unknown';
    const status = STATUS_OF[code] ?? 400;
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      // Routine (a closed tab, a dropped mobile link); a body cut short says so itself (src/edge/http/body.ts).
      log.debug(`client went away mid-request (${code})`);
      socket.destroy();
      return;
    }
    cut.add(socket);
    (status === 408 ? log.warn : log.info)(
      `request cut: ${status === 408 ? 'too slow' : 'malformed'} (${code}) from ${socket.remoteAddress ?? '?'}`,
    );
    if (socket.writable && !responses.get(socket)?.headersSent) {
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    socket.destroy();
  });
}
