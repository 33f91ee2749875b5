import { isIP } from 'node:net';

/**
 * Where a webhook may be sent. Staff choose the URL, but the service makes the request from inside the
 * shop's network: an address in a private range would let a URL reach what only the service can reach.
 */

/** What an address is, when it is not an ordinary public one. */
export type AddressKind =
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

export interface AddressPolicy {
  /** Loopback (127.0.0.0/8, ::1): a receiver on the same machine, for development and tests. */
  allowLoopback: boolean;
  /** Private, link-local, carrier-grade NAT and IPv6 unique-local networks. */
  allowPrivate: boolean;
}

function ipv4Bits(address: string): number | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = value * 256 + Number(part);
  }
  return value;
}

function inV4(bits: number, base: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(bits / size) === Math.floor(ipv4Bits(base)! / size);
}

function kindOfV4(address: string): AddressKind | null {
  const bits = ipv4Bits(address);
  if (bits === null) return 'reserved';
  if (inV4(bits, '0.0.0.0', 8)) return 'unspecified';
  if (inV4(bits, '127.0.0.0', 8)) return 'loopback';
  if (inV4(bits, '10.0.0.0', 8) || inV4(bits, '172.16.0.0', 12) || inV4(bits, '192.168.0.0', 16)) {
    return 'private';
  }
  if (inV4(bits, '169.254.0.0', 16)) return 'link-local';
  if (inV4(bits, '100.64.0.0', 10)) return 'carrier-grade NAT';
  if (inV4(bits, '224.0.0.0', 4)) return 'multicast';
  if (inV4(bits, '240.0.0.0', 4)) return 'reserved';
  return null;
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail included). */
function ipv6Groups(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const bits = ipv4Bits(dotted[1]!);
    if (bits === null) return null;
    text = `${text.slice(0, -dotted[1]!.length)}${(bits >>> 16).toString(16)}:${(bits & 0xffff).toString(16)}`;
  }
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return null;
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16));
}

function kindOfV6(address: string): AddressKind | null {
  const g = ipv6Groups(address);
  if (!g) return 'reserved';
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return 'unspecified';
  if (zeros(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address inside.
  if (
    (zeros(5) && g[5] === 0xffff) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
  ) {
    return kindOfV4(`${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`);
  }
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'unique-local';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** The kind of an IP address, or null for an ordinary public one. Anything unreadable counts as reserved. */
export function addressKind(address: string): AddressKind | null {
  const version = isIP(address);
  if (version === 4) return kindOfV4(address);
  if (version === 6) return kindOfV6(address);
  return 'reserved';
}

/** Why a connection to this address is refused, or null when it may go ahead. */
export function refusedAddress(address: string, policy: AddressPolicy): string | null {
  const kind = addressKind(address);
  if (kind === null) return null;
  if (kind === 'loopback' && policy.allowLoopback) return null;
  if (
    policy.allowPrivate &&
    (kind === 'private' || kind === 'link-local' || kind === 'carrier-grade NAT' || kind === 'unique-local')
  ) {
    return null;
  }
  return `${address} is a ${kind} address`;
}
