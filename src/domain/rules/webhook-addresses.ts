import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where a webhook may be sent. Staff choose the URL, but the service makes the request from inside the
 * shop's network: an address in a private range would let a URL reach what only the service can reach.
 *
 * Which block an address is in is ipaddr.js's `range()`, whose table follows the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (and multicast, broadcast, site-local). Only the blocks listed in
 * GLOBALLY_REACHABLE pass; every other block it names, one a later version adds included, is refused. An
 * IPv6 address carrying an IPv4 one (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) has that IPv4
 * address classified too.
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

/** What is known of an address: its kind (null: public), the library's name of its block, what it carries. */
export interface AddressClass {
  kind: AddressKind | null;
  /**
   * ipaddr.js's name of the block (`unicast` when in none); or `ipv4Compatible`, `notGlobalUnicast`
   * (IPv6 outside 2000::/3) and `invalid`, which it does not name.
   */
  range: string;
  /** The IPv4 addresses inside an IPv6 one, each classified. */
  embedded: { via: string; address: string; kind: AddressKind | null; range: string }[];
}

/**
 * The library's blocks that the registries mark globally reachable (AS112, AMT, ORCHIDv2, drone entity
 * tags), and `unicast`, an address in no special block. The anycast addresses for finding a service of
 * one's own network (PCP 192.0.0.9 and 2001:1::1, TURN 192.0.0.10 and 2001:1::2, DNS-SD 2001:1::3) are
 * marked globally reachable too, but the nearest server answers them, which may be inside the shop's
 * network: ipaddr.js keeps them in the refused 192.0.0.0/24 and 2001::/23, and so does this.
 */
const GLOBALLY_REACHABLE = new Set([
  'unicast',
  'as112',
  'amt',
  'as112v6',
  'orchid2',
  'droneRemoteIdProtocolEntityTags',
]);

const KIND_OF_RANGE: Record<string, AddressKind> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  multicast: 'multicast',
  unspecified: 'unspecified',
};

const kindOfRange = (range: string): AddressKind | null =>
  GLOBALLY_REACHABLE.has(range) ? null : (KIND_OF_RANGE[range] ?? 'reserved');

const v4 = (high: number, low: number): string => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;

function classifyV4(address: string): AddressClass {
  const range = ipaddr.IPv4.parse(address).range() as string;
  return { kind: kindOfRange(range), range, embedded: [] };
}

const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');
/** IANA's global unicast space; the rest of the IPv6 space is reserved by the IETF (RFC 4291). */
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

function classifyV6(address: string): AddressClass {
  // The zone of a scoped address does not change its block. The text goes through the URL parser first:
  // ipaddr.js reads the deprecated `::a.b.c.d` (IPv4-compatible) as `::ffff:a.b.c.d` (IPv4-mapped).
  const bare = address.replace(/%.*$/, '');
  const ip = ipaddr.IPv6.parse(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
  const range = ip.range() as string;
  const g = ip.parts as [number, number, number, number, number, number, number, number];
  const inside = (via: string, high: number, low: number) => {
    const found = classifyV4(v4(high, low));
    return { via, address: v4(high, low), kind: found.kind, range: found.range };
  };
  // IPv4-mapped and the well-known NAT64 prefix reach the IPv4 address inside: its verdict is theirs.
  if (range === 'ipv4Mapped' || (range === 'rfc6052' && ip.match(NAT64_WELL_KNOWN))) {
    const embedded = inside(range === 'ipv4Mapped' ? 'IPv4-mapped' : 'NAT64', g[6], g[7]);
    return { kind: embedded.kind, range, embedded: [embedded] };
  }
  // Tunnels to an IPv4 address: not globally reachable by the registry (6to4, Teredo: N/A) or
  // deprecated (IPv4-compatible), so refused whatever they carry; what they carry is named.
  if (range === '6to4') return { kind: 'reserved', range, embedded: [inside('6to4', g[1], g[2])] };
  if (range === 'teredo') {
    // Teredo: the server's address, then the client's, stored inverted.
    const server = inside('Teredo server', g[2], g[3]);
    return {
      kind: 'reserved',
      range,
      embedded: [server, inside('Teredo client', ~g[6] & 0xffff, ~g[7] & 0xffff)],
    };
  }
  if (range === 'unicast' && ip.match(IPV4_COMPATIBLE)) {
    return { kind: 'reserved', range: 'ipv4Compatible', embedded: [inside('IPv4-compatible', g[6], g[7])] };
  }
  if (range === 'unicast' && !ip.match(GLOBAL_UNICAST)) {
    return { kind: 'reserved', range: 'notGlobalUnicast', embedded: [] };
  }
  return { kind: kindOfRange(range), range, embedded: [] };
}

/** The class of an IP address. Anything that is not one is reserved. */
export function classifyAddress(address: string): AddressClass {
  const invalid: AddressClass = { kind: 'reserved', range: 'invalid', embedded: [] };
  try {
    const version = isIP(address);
    if (version === 4) return classifyV4(address);
    if (version === 6) return classifyV6(address);
  } catch {
    // What Node calls an address but a parser does not read: refused like anything unreadable.
  }
  return invalid;
}

/** The kind of an IP address, or null for an ordinary public one. Anything unreadable counts as reserved. */
export function addressKind(address: string): AddressKind | null {
  return classifyAddress(address).kind;
}

/** Why a connection to this address is refused, or null when it may go ahead. */
export function refusedAddress(address: string, policy: AddressPolicy): string | null {
  const { kind, range, embedded } = classifyAddress(address);
  if (kind === null) return null;
  if (kind === 'loopback' && policy.allowLoopback) return null;
  if (
    policy.allowPrivate &&
    (kind === 'private' || kind === 'link-local' || kind === 'carrier-grade NAT' || kind === 'unique-local')
  ) {
    return null;
  }
  // What an IPv6 address carries says what it is; otherwise the block, where `reserved` is not all.
  const notes = embedded.length
    ? embedded.map((e) => `${e.via} ${e.address}${e.kind ? `, ${e.kind}` : ''}`)
    : kind === 'reserved' && range !== 'reserved'
      ? [range]
      : [];
  return `${address} is a ${kind} address${notes.length ? ` (${notes.join('; ')})` : ''}`;
}
