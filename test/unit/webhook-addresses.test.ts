import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  type AddressKind,
  addressKind,
  classifyAddress,
  refusedAddress,
} from '../../src/domain/rules/webhook-addresses.ts';

/**
 * Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (as published in 2025: 25
 * records each, the IPv6 Dummy Prefix of RFC 9780 the newest), with the registry's "Globally Reachable"
 * column, a sample address inside and the kind it gets (null: passes like any public address).
 *
 * The verdict is the column's: refused unless the registry marks the block globally reachable. Blank
 * (a terminated block) and N/A (6to4, Teredo) are not "globally reachable", so refused. Where a row goes
 * against its column, `because` says why:
 * - the anycast addresses for finding a service of one's own network (PCP, TURN, DNS-SD) are marked
 *   globally reachable, but the nearest server answers them, which may be inside the shop's network:
 *   refused (ipaddr.js keeps them inside 192.0.0.0/24 and 2001::/23, both refused);
 * - IPv4-mapped (::ffff:0:0/96, marked not reachable: such a packet never crosses a network) is how an
 *   IPv6 socket writes an IPv4 destination: it gets the verdict of the IPv4 address inside, as does the
 *   NAT64 well-known prefix (64:ff9b::/96, marked reachable), which the network translates to it.
 */
interface Block {
  block: string;
  name: string;
  globallyReachable: 'True' | 'False' | 'N/A' | 'blank';
  samples: [address: string, kind: AddressKind | null][];
  because?: string;
}

const OWN_NETWORK_ANYCAST = 'anycast for a service of one’s own network: refused';
const EMBEDDED = 'the verdict of the IPv4 address inside';

const IPV4_REGISTRY: Block[] = [
  {
    block: '0.0.0.0/8',
    name: '"This network"',
    globallyReachable: 'False',
    samples: [['0.1.2.3', 'unspecified']],
  },
  {
    block: '0.0.0.0/32',
    name: '"This host on this network"',
    globallyReachable: 'False',
    samples: [['0.0.0.0', 'unspecified']],
  },
  {
    block: '10.0.0.0/8',
    name: 'Private-Use',
    globallyReachable: 'False',
    samples: [['10.1.2.3', 'private']],
  },
  {
    block: '100.64.0.0/10',
    name: 'Shared Address Space',
    globallyReachable: 'False',
    samples: [['100.64.0.1', 'carrier-grade NAT']],
  },
  {
    block: '127.0.0.0/8',
    name: 'Loopback',
    globallyReachable: 'False',
    samples: [['127.0.0.1', 'loopback']],
  },
  {
    block: '169.254.0.0/16',
    name: 'Link Local',
    globallyReachable: 'False',
    samples: [['169.254.169.254', 'link-local']],
  },
  {
    block: '172.16.0.0/12',
    name: 'Private-Use',
    globallyReachable: 'False',
    samples: [['172.20.0.1', 'private']],
  },
  {
    block: '192.0.0.0/24',
    name: 'IETF Protocol Assignments',
    globallyReachable: 'False',
    samples: [['192.0.0.100', 'reserved']],
  },
  {
    block: '192.0.0.0/29',
    name: 'IPv4 Service Continuity Prefix',
    globallyReachable: 'False',
    samples: [['192.0.0.1', 'reserved']],
  },
  {
    block: '192.0.0.8/32',
    name: 'IPv4 dummy address',
    globallyReachable: 'False',
    samples: [['192.0.0.8', 'reserved']],
  },
  {
    block: '192.0.0.9/32',
    name: 'Port Control Protocol Anycast',
    globallyReachable: 'True',
    samples: [['192.0.0.9', 'reserved']],
    because: OWN_NETWORK_ANYCAST,
  },
  {
    block: '192.0.0.10/32',
    name: 'Traversal Using Relays around NAT Anycast',
    globallyReachable: 'True',
    samples: [['192.0.0.10', 'reserved']],
    because: OWN_NETWORK_ANYCAST,
  },
  {
    block: '192.0.0.170/31',
    name: 'NAT64/DNS64 Discovery (192.0.0.170/32, 192.0.0.171/32)',
    globallyReachable: 'False',
    samples: [
      ['192.0.0.170', 'reserved'],
      ['192.0.0.171', 'reserved'],
    ],
  },
  {
    block: '192.0.2.0/24',
    name: 'Documentation (TEST-NET-1)',
    globallyReachable: 'False',
    samples: [['192.0.2.2', 'reserved']],
  },
  {
    block: '192.31.196.0/24',
    name: 'AS112-v4',
    globallyReachable: 'True',
    samples: [['192.31.196.1', null]],
  },
  { block: '192.52.193.0/24', name: 'AMT', globallyReachable: 'True', samples: [['192.52.193.1', null]] },
  {
    block: '192.88.99.0/24',
    name: 'Deprecated (6to4 Relay Anycast), terminated 2015-03',
    globallyReachable: 'blank',
    samples: [['192.88.99.1', 'reserved']],
  },
  {
    block: '192.88.99.2/32',
    name: '6a44-relay anycast address',
    globallyReachable: 'False',
    samples: [['192.88.99.2', 'reserved']],
  },
  {
    block: '192.168.0.0/16',
    name: 'Private-Use',
    globallyReachable: 'False',
    samples: [['192.168.1.1', 'private']],
  },
  {
    block: '192.175.48.0/24',
    name: 'Direct Delegation AS112 Service',
    globallyReachable: 'True',
    samples: [['192.175.48.1', null]],
  },
  {
    block: '198.18.0.0/15',
    name: 'Benchmarking',
    globallyReachable: 'False',
    samples: [
      ['198.18.0.1', 'reserved'],
      ['198.19.255.254', 'reserved'],
    ],
  },
  {
    block: '198.51.100.0/24',
    name: 'Documentation (TEST-NET-2)',
    globallyReachable: 'False',
    samples: [['198.51.100.7', 'reserved']],
  },
  {
    block: '203.0.113.0/24',
    name: 'Documentation (TEST-NET-3)',
    globallyReachable: 'False',
    samples: [['203.0.113.9', 'reserved']],
  },
  {
    block: '240.0.0.0/4',
    name: 'Reserved',
    globallyReachable: 'False',
    samples: [['240.0.0.1', 'reserved']],
  },
  {
    block: '255.255.255.255/32',
    name: 'Limited Broadcast',
    globallyReachable: 'False',
    samples: [['255.255.255.255', 'reserved']],
  },
];

const IPV6_REGISTRY: Block[] = [
  { block: '::1/128', name: 'Loopback Address', globallyReachable: 'False', samples: [['::1', 'loopback']] },
  {
    block: '::/128',
    name: 'Unspecified Address',
    globallyReachable: 'False',
    samples: [['::', 'unspecified']],
  },
  {
    block: '::ffff:0:0/96',
    name: 'IPv4-mapped Address',
    globallyReachable: 'False',
    samples: [
      ['::ffff:192.0.2.1', 'reserved'],
      ['::ffff:c612:1', 'reserved'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:8.8.8.8', null],
    ],
    because: EMBEDDED,
  },
  {
    block: '64:ff9b::/96',
    name: 'IPv4-IPv6 Translat.',
    globallyReachable: 'True',
    samples: [
      ['64:ff9b::8.8.8.8', null],
      ['64:ff9b::c000:202', 'reserved'],
      ['64:ff9b::192.168.0.1', 'private'],
      ['64:ff9b::7f00:1', 'loopback'],
    ],
    because: EMBEDDED,
  },
  {
    block: '64:ff9b:1::/48',
    name: 'IPv4-IPv6 Translat. (local use)',
    globallyReachable: 'False',
    samples: [['64:ff9b:1::808:808', 'reserved']],
  },
  {
    block: '100::/64',
    name: 'Discard-Only Address Block',
    globallyReachable: 'False',
    samples: [['100::1', 'reserved']],
  },
  {
    block: '100:0:0:1::/64',
    name: 'Dummy IPv6 Prefix',
    globallyReachable: 'False',
    samples: [['100:0:0:1::1', 'reserved']],
  },
  {
    block: '2001::/23',
    name: 'IETF Protocol Assignments',
    globallyReachable: 'False',
    samples: [
      ['2001:1::4', 'reserved'],
      ['2001:1ff::1', 'reserved'],
    ],
  },
  {
    block: '2001::/32',
    name: 'TEREDO',
    globallyReachable: 'N/A',
    samples: [['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved']],
  },
  {
    block: '2001:1::1/128',
    name: 'Port Control Protocol Anycast',
    globallyReachable: 'True',
    samples: [['2001:1::1', 'reserved']],
    because: OWN_NETWORK_ANYCAST,
  },
  {
    block: '2001:1::2/128',
    name: 'Traversal Using Relays around NAT Anycast',
    globallyReachable: 'True',
    samples: [['2001:1::2', 'reserved']],
    because: OWN_NETWORK_ANYCAST,
  },
  {
    block: '2001:1::3/128',
    name: 'DNS-SD Service Registration Protocol Anycast',
    globallyReachable: 'True',
    samples: [['2001:1::3', 'reserved']],
    because: OWN_NETWORK_ANYCAST,
  },
  {
    block: '2001:2::/48',
    name: 'Benchmarking',
    globallyReachable: 'False',
    samples: [['2001:2::1', 'reserved']],
  },
  { block: '2001:3::/32', name: 'AMT', globallyReachable: 'True', samples: [['2001:3::1', null]] },
  {
    block: '2001:4:112::/48',
    name: 'AS112-v6',
    globallyReachable: 'True',
    samples: [['2001:4:112::1', null]],
  },
  {
    block: '2001:10::/28',
    name: 'Deprecated (previously ORCHID), terminated 2014-03',
    globallyReachable: 'blank',
    samples: [['2001:10::1', 'reserved']],
  },
  { block: '2001:20::/28', name: 'ORCHIDv2', globallyReachable: 'True', samples: [['2001:20::1', null]] },
  {
    block: '2001:30::/28',
    name: 'Drone Remote ID Protocol Entity Tags (DETs) Prefix',
    globallyReachable: 'True',
    samples: [['2001:30::1', null]],
  },
  {
    block: '2001:db8::/32',
    name: 'Documentation',
    globallyReachable: 'False',
    samples: [['2001:db8::1', 'reserved']],
  },
  {
    block: '2002::/16',
    name: '6to4',
    globallyReachable: 'N/A',
    samples: [
      ['2002:808:808::1', 'reserved'],
      ['2002:a00:1::', 'reserved'],
    ],
  },
  {
    block: '2620:4f:8000::/48',
    name: 'Direct Delegation AS112 Service',
    globallyReachable: 'True',
    samples: [['2620:4f:8000::1', null]],
  },
  {
    block: '3fff::/20',
    name: 'Documentation',
    globallyReachable: 'False',
    samples: [['3fff::1', 'reserved']],
  },
  {
    block: '5f00::/16',
    name: 'Segment Routing (SRv6) SIDs',
    globallyReachable: 'False',
    samples: [['5f00::1', 'reserved']],
  },
  {
    block: 'fc00::/7',
    name: 'Unique-Local',
    globallyReachable: 'False',
    samples: [
      ['fc00::1', 'unique-local'],
      ['fd12:3456::1', 'unique-local'],
    ],
  },
  {
    block: 'fe80::/10',
    name: 'Link-Local Unicast',
    globallyReachable: 'False',
    samples: [
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
    ],
  },
];

/** Outside the two registries, refused all the same. */
const OTHER_REFUSED: [address: string, kind: AddressKind, why: string][] = [
  ['224.0.0.1', 'multicast', 'IPv4 multicast, 224.0.0.0/4'],
  ['239.255.255.250', 'multicast', 'IPv4 multicast'],
  ['ff02::1', 'multicast', 'IPv6 multicast, ff00::/8'],
  ['fec0::1', 'reserved', 'deprecated site-local, fec0::/10'],
  ['::8.8.8.8', 'reserved', 'IPv4-compatible ::/96, deprecated (RFC 4291)'],
  ['::127.0.0.1', 'reserved', 'IPv4-compatible, loopback inside'],
  ['::a00:1', 'reserved', 'IPv4-compatible, private inside'],
  ['::ffff:0:808:808', 'reserved', 'IPv4-translated ::ffff:0:0:0/96 (RFC 6145)'],
  ['4000::1', 'reserved', 'IPv6 outside 2000::/3, reserved by the IETF'],
  ['e000::1', 'reserved', 'IPv6 outside 2000::/3'],
  ['not-an-ip', 'reserved', 'not an address'],
];

/** Public addresses, also next to the blocks above: they pass. */
const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1',
  '100.128.0.1',
  '192.0.1.1',
  '192.0.3.1',
  '198.17.255.255',
  '198.20.0.1',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2001:200::1',
  '2a00:1450:4001:80b::200e',
  '::ffff:1.1.1.1',
  '64:ff9b::101:101',
];

const strict = { allowLoopback: false, allowPrivate: false };
const lenient = { allowLoopback: true, allowPrivate: true };
const ALLOWED_BY_SETTINGS = new Set<AddressKind>([
  'loopback',
  'private',
  'link-local',
  'carrier-grade NAT',
  'unique-local',
]);

describe.each([
  ['IPv4', IPV4_REGISTRY],
  ['IPv6', IPV6_REGISTRY],
])('the IANA %s Special-Purpose Address Registry', (_family, registry) => {
  it.each(registry.map((b) => [b.block, b.name, b] as const))('%s (%s)', (_block, _name, b) => {
    for (const [address, kind] of b.samples) {
      expect([address, addressKind(address)]).toEqual([address, kind]);
      // Refused by default unless public; the settings allow only loopback and the private kinds.
      expect([address, refusedAddress(address, strict) === null]).toEqual([address, kind === null]);
      expect([address, refusedAddress(address, lenient) === null]).toEqual([
        address,
        kind === null || ALLOWED_BY_SETTINGS.has(kind),
      ]);
    }
  });

  it('follows the Globally Reachable column, but where a reason is given', () => {
    for (const b of registry) {
      if (b.because) continue;
      const passes = b.samples.map(([address]) => refusedAddress(address, strict) === null);
      expect([b.block, passes]).toEqual([b.block, passes.map(() => b.globallyReachable === 'True')]);
    }
  });

  it('gives the first and last address of each block the verdict of its sample', () => {
    for (const b of registry) {
      if (b.because === EMBEDDED) continue;
      const [network, bits] = ipaddr.parseCIDR(b.block);
      const first = network.toString();
      const last = (network.kind() === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6)
        .broadcastAddressFromCIDR(`${network.toString()}/${bits}`)
        .toString();
      const expected = b.samples[0]![1] === null;
      for (const edge of [first, last]) {
        expect([b.block, edge, refusedAddress(edge, strict) === null]).toEqual([b.block, edge, expected]);
      }
    }
  });
});

describe('addresses outside the registries', () => {
  it.each(OTHER_REFUSED)('refuses %s as %s (%s)', (address, kind) => {
    expect(addressKind(address)).toBe(kind);
    expect(refusedAddress(address, lenient)).not.toBeNull();
  });

  it.each(PUBLIC)('lets %s through', (address) => {
    expect(addressKind(address)).toBeNull();
    expect(refusedAddress(address, strict)).toBeNull();
  });
});

describe('IPv4 inside IPv6', () => {
  it('finds the IPv4 address in every form that carries one, and classifies it', () => {
    const inside = (address: string) =>
      classifyAddress(address).embedded.map((e) => [e.via, e.address, e.kind] as const);
    expect(inside('::ffff:127.0.0.1')).toEqual([['IPv4-mapped', '127.0.0.1', 'loopback']]);
    expect(inside('::ffff:c000:202')).toEqual([['IPv4-mapped', '192.0.2.2', 'reserved']]);
    expect(inside('::10.0.0.1')).toEqual([['IPv4-compatible', '10.0.0.1', 'private']]);
    expect(inside('::c612:1')).toEqual([['IPv4-compatible', '198.18.0.1', 'reserved']]);
    expect(inside('64:ff9b::169.254.169.254')).toEqual([['NAT64', '169.254.169.254', 'link-local']]);
    expect(inside('2002:a9fe:a9fe::1')).toEqual([['6to4', '169.254.169.254', 'link-local']]);
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (stored inverted).
    expect(inside('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toEqual([
      ['Teredo server', '65.54.227.120', null],
      ['Teredo client', '192.0.2.45', 'reserved'],
    ]);
  });

  it('names what is inside when refusing', () => {
    expect(refusedAddress('64:ff9b::10.0.0.1', strict)).toBe(
      '64:ff9b::10.0.0.1 is a private address (NAT64 10.0.0.1, private)',
    );
    expect(refusedAddress('2002:7f00:1::', lenient)).toBe(
      '2002:7f00:1:: is a reserved address (6to4 127.0.0.1, loopback)',
    );
    expect(refusedAddress('::8.8.8.8', lenient)).toBe(
      '::8.8.8.8 is a reserved address (IPv4-compatible 8.8.8.8)',
    );
    expect(refusedAddress('198.18.0.1', lenient)).toBe('198.18.0.1 is a reserved address');
    expect(refusedAddress('5f00::1', lenient)).toBe('5f00::1 is a reserved address (segmentRouting)');
    expect(refusedAddress('4000::1', lenient)).toBe('4000::1 is a reserved address (notGlobalUnicast)');
    expect(refusedAddress('255.255.255.255', lenient)).toBe(
      '255.255.255.255 is a reserved address (broadcast)',
    );
  });
});
