import type { WebSocketServer } from 'ws';
import { log } from '../../base/log.ts';

/**
 * Errors on a socket are about what its client sent (a message over the size limit, broken framing) or its
 * connection; the socket closes itself (1009, 1002, …). graphql-ws would log each as an internal error,
 * with a stack, asking to check the implementation: here each is one line. Registered after graphql-ws's
 * own connection handler, so that its listener is the one replaced.
 */
export function logSocketErrorsAsOneLine(wss: WebSocketServer): void {
  wss.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (err: Error & { code?: string }) => {
      log.info(
        `WebSocket closed by its client's error: ${err.code ?? err.name}: ${err.message.slice(0, 100)}`,
      );
    });
  });
}
