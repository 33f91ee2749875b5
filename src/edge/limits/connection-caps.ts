import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { log } from '../../base/log.ts';
import type { ConnectionCaps } from '../settings/abuse-limits.ts';
import { normalize } from './caller.ts';

/** Close code of a WebSocket refused because its caller already holds as many as allowed. */
export const CLOSE_TOO_MANY_SOCKETS = 4429;

function refusalBody(code: string, limit: string, message: string): string {
  return JSON.stringify({ errors: [{ message, extensions: { code, limit } }] });
}

/**
 * What one caller, and everyone together, may hold open: TCP connections on the port, WebSockets and
 * Server-Sent Event streams per caller. Every refusal is an answer (HTTP 503 or 429 with a GraphQL error
 * body, or a WebSocket close code with a reason), never a connection dropped without a word.
 */
export class ConnectionGuard {
  private open = 0;
  private readonly sockets = new Map<string, number>();
  private readonly streams = new Map<string, number>();
  private readonly byAddress = new Map<string, number>();

  constructor(readonly caps: ConnectionCaps) {}

  get openConnections(): number {
    return this.open;
  }

  /** Open connections per peer address (IPv6 by /64), when MAX_CONNECTIONS_PER_ADDRESS is on. */
  get connectionsByAddress(): ReadonlyMap<string, number> {
    return this.byAddress;
  }

  /**
   * Counts the port's connections, in total and per peer address. One over a cap gets a complete answer
   * at once and is closed: HTTP 429 when its address holds as many as allowed, else 503 when the port
   * does. What the client still sends is read and dropped so that it receives the answer rather than a
   * reset. The address is the connection's peer: at accept no header is read, so X-Forwarded-For is not
   * there (behind a proxy the per-address cap stays off).
   */
  watch(server: Server): void {
    const perAddress = this.caps.connectionsPerAddress;
    server.on('connection', (socket: Socket) => {
      this.open++;
      const address = perAddress > 0 ? normalize(socket.remoteAddress ?? 'unknown') : '';
      const held = perAddress > 0 ? (this.byAddress.get(address) ?? 0) + 1 : 0;
      if (perAddress > 0) this.byAddress.set(address, held);
      socket.once('close', () => {
        this.open--;
        if (perAddress > 0) release(this.byAddress, address);
      });
      if (perAddress > 0 && held > perAddress) {
        log.debug(`connection refused: ${held - 1} open from ${address}, cap ${perAddress}`);
        refuseConnection(
          socket,
          '429 Too Many Requests',
          refusalBody(
            'RATE_LIMITED',
            'connectionsPerAddress',
            `Too many open connections from one address: at most ${perAddress}.`,
          ),
        );
        return;
      }
      if (this.open <= this.caps.openConnections) return;
      log.debug(`connection refused: ${this.open - 1} open, cap ${this.caps.openConnections}`);
      refuseConnection(
        socket,
        '503 Service Unavailable',
        refusalBody('OVERLOADED', 'openConnections', 'Too many open connections: try again shortly.'),
      );
    });
  }

  /**
   * Takes a stream slot for the caller until the response ends; false (after answering 429) when the
   * caller already holds as many as allowed.
   */
  admitStream(req: IncomingMessage, res: ServerResponse, caller: string): boolean {
    const held = this.streams.get(caller) ?? 0;
    if (held >= this.caps.streamsPerCaller) {
      const body = refusalBody(
        'RATE_LIMITED',
        'streamsPerCaller',
        `At most ${this.caps.streamsPerCaller} event streams open at once per caller.`,
      );
      res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' });
      res.end(body);
      req.resume();
      return false;
    }
    this.streams.set(caller, held + 1);
    res.once('close', () => release(this.streams, caller));
    return true;
  }

  /** Takes a WebSocket slot for the caller until the socket closes; false when over the cap. */
  admitSocket(socket: WebSocket, caller: string): boolean {
    const held = this.sockets.get(caller) ?? 0;
    if (held >= this.caps.socketsPerCaller) return false;
    this.sockets.set(caller, held + 1);
    socket.once('close', () => release(this.sockets, caller));
    return true;
  }

  /** Closes a socket refused by admitSocket, saying why. */
  static refuseSocket(socket: WebSocket, cap: number): void {
    socket.close(CLOSE_TOO_MANY_SOCKETS, `Too many sockets: at most ${cap} per caller`);
  }
}

/** Answers a connection refused at accept with a complete HTTP response, then closes it. */
function refuseConnection(socket: Socket, status: string, body: string): void {
  socket.on('data', () => {});
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Retry-After: 1\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 2000).unref();
}

function release(counts: Map<string, number>, caller: string): void {
  const left = (counts.get(caller) ?? 1) - 1;
  if (left <= 0) counts.delete(caller);
  else counts.set(caller, left);
}
