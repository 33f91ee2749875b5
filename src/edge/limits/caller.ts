import type { IncomingMessage } from 'node:http';
import { isIPv6 } from 'node:net';

/**
 * The address a request comes from. Behind `hops` trusted proxies, each appends the address it received
 * the request from to X-Forwarded-For, so the client is the entry `hops` places from the right (counting
 * the socket's own peer); anything further left was written by the client and is not believed.
 */
export function clientAddress(req: IncomingMessage | undefined, hops: number): string {
  const peer = req?.socket?.remoteAddress ?? 'unknown';
  if (hops <= 0 || !req) return normalize(peer);
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  return normalize(chain[Math.max(0, chain.length - 1 - hops)]!);
}

/**
 * One key per address a single party can be expected to hold: IPv4 as it is, IPv6 by its /64 (one site
 * gets a whole /64, so anything finer is free to rotate), IPv4 mapped into IPv6 as IPv4.
 */
export function normalize(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  if (!isIPv6(bare)) return bare;
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  // An embedded IPv4 tail is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => Number.parseInt(g || '0', 16).toString(16));
}

/** Who an operation is counted against: the token's subject, or the address without a token. */
export function callerKey(viewer: { id: string; role: string } | null, address: string): string {
  return viewer ? `${viewer.role}:${viewer.id}` : `addr:${address}`;
}
