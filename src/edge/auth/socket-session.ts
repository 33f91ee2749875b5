import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Actor } from '../../domain/types.ts';
import { AuthenticationError, type Session } from './tokens.ts';

/** The close code of a refused credential, also used when the credential expires. */
export const CLOSE_FORBIDDEN = 4403;

/** setTimeout holds at most this many ms (about 24.8 days); a token may live longer, so timers are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

interface Held {
  role: Actor['role'] | null;
  expiresAt: number | null;
  timer?: NodeJS.Timeout;
}

const held = new WeakMap<WebSocket, Held>();

function close(socket: WebSocket): void {
  if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
    socket.close(CLOSE_FORBIDDEN, 'Token has expired');
  }
}

/**
 * The credential in a socket's connectionParams: `authorization`, as the header's value. Another casing
 * (`Authorization`) is refused rather than ignored: its client meant to sign in, and would otherwise run as
 * anonymous without knowing it.
 */
export function socketAuthorization(params: Readonly<Record<string, unknown>> | undefined): string {
  const keys = Object.keys(params ?? {});
  if (keys.some((key) => key !== 'authorization' && key.toLowerCase() === 'authorization')) {
    throw new AuthenticationError('connectionParams must name the credential "authorization"');
  }
  return String(params?.authorization ?? '');
}

/**
 * Binds a socket to the credential it connected with: a socket lives no longer than its token. At expiry it
 * is closed with 4403; the timer goes with the socket.
 */
export function holdSession(socket: WebSocket, session: Session | null): void {
  const entry: Held = { role: session?.actor.role ?? null, expiresAt: session?.expiresAt.getTime() ?? null };
  held.set(socket, entry);
  const expiresAt = entry.expiresAt;
  if (expiresAt === null) return;
  const arm = () => {
    const left = expiresAt - Date.now();
    if (left <= 0) close(socket);
    else entry.timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
  };
  arm();
  socket.once('close', () => clearTimeout(entry.timer));
}

/**
 * An operation that arrives once the token has expired (before the timer ran, on a busy process) never
 * runs: it is refused as it is read, and the socket is closed. Sockets' operations go through the same
 * envelop as HTTP, their initial context carrying the socket.
 */
export function useSocketExpiry(): Plugin {
  return {
    onParse({ context }) {
      const socket = (context as { extra?: { socket?: WebSocket } }).extra?.socket;
      const expiresAt = socket && held.get(socket)?.expiresAt;
      if (!socket || !expiresAt || Date.now() < expiresAt) return;
      close(socket);
      throw new GraphQLError('Token has expired', { extensions: { code: 'UNAUTHENTICATED' } });
    },
  };
}

/** The role the socket connected with; null for anonymous or an unknown socket. */
export function roleOfSocket(socket: WebSocket): Actor['role'] | null {
  return held.get(socket)?.role ?? null;
}
