import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRunSpec } from '../../src/container/spec.js';
import { describeRequest, encodeRequests } from '../../src/netlink/message.js';
import { encodeQuery, encodeResponse, parseQuery, parseResponse, RCODE_NOERROR, TYPE_A, TYPE_AAAA } from '../../src/network/dns/message.js';
import { buildZone, lookup } from '../../src/network/dns/zone.js';
import { replaceAddress6 } from '../../src/netlink/route.js';
import { ipLines } from '../../src/network/links.js';
import { bridgeOperation } from '../../src/network/bridge.js';
import { Ipam6 } from '../../src/network/ipam6.js';
import { hostRoutes6, planNetwork, type NetworkDefinition, type UserNetwork } from '../../src/network/networks.js';
import { networkRuleset } from '../../src/network/network-firewall.js';
import { Subnet } from '../../src/network/subnet.js';
import { formatIpv6, parseIpv6, Subnet6 } from '../../src/network/subnet6.js';

const ID = 'ab'.repeat(32);
const context = (existing: NetworkDefinition[] = [], routes6: { subnet: Subnet6; device: string }[] = []) => ({ existing, routes: [], routes6, id: ID, now: '2026-01-01T00:00:00.000Z' });

function userNetwork(definition: NetworkDefinition): UserNetwork {
  return {
    ...definition,
    parsedSubnet: Subnet.parse(definition.subnet),
    parsedGateway: 0,
    parsedSubnet6: definition.subnet6 === undefined ? null : Subnet6.parse(definition.subnet6),
    parsedGateway6: definition.gateway6 === undefined ? null : parseIpv6(definition.gateway6),
  };
}

describe('IPv6 addresses', () => {
  it('parses strictly and formats as RFC 5952 says', () => {
    for (const [text, shown] of [
      ['fd00:40:0:0:0:0:0:80', 'fd00:40::80'],
      ['FD00::0001', 'fd00::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ]) {
      expect(formatIpv6(parseIpv6(text!)!)).toBe(shown);
    }
    for (const bad of ['1::2::3', '12345::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', 'g::', '::1.2.3', '', ':1::']) expect(parseIpv6(bad)).toBeNull();
  });

  it('checks subnets: host bits, prefix, reserved ranges, what a container may take', () => {
    const subnet = Subnet6.parse('fd00:40::/64');
    expect(subnet.toString()).toBe('fd00:40::/64');
    expect(formatIpv6(subnet.gateway)).toBe('fd00:40::1');
    expect(subnet.contains(parseIpv6('fd00:40::ffff:1')!)).toBe(true);
    expect(subnet.contains(parseIpv6('fd00:41::1')!)).toBe(false);
    expect(() => Subnet6.parse('fd00:40::1/64')).toThrow(/host bits set/);
    expect(() => Subnet6.parse('fd00::/121')).toThrow(/\/1 to \/120/);
    expect(() => Subnet6.parse('10.0.0.0/8')).toThrow(/invalid IPv6 subnet/);
    expect(Subnet6.parse('fe80::/64').reservedReason()).toMatch(/link-local/);
    expect(Subnet6.parse('ff02::/16').reservedReason()).toMatch(/multicast/);
    expect(Subnet6.parse('::ffff:0:0/96').reservedReason()).toMatch(/IPv4-mapped/);
    expect(Subnet6.parse('fd00::/8').reservedReason()).toBeNull();
    expect(subnet.unusableReason(parseIpv6('fd00:40::1')!, subnet.gateway)).toMatch(/gateway/);
    expect(subnet.unusableReason(parseIpv6('fd00:40::')!, subnet.gateway)).toMatch(/anycast/);
    expect(subnet.unusableReason(parseIpv6('fd00:41::2')!, subnet.gateway)).toMatch(/outside/);
  });
});

describe('dual-stack networks', () => {
  it('plans the IPv6 subnet given, or the first free /64 of fd89::/48, checked against networks and host routes', () => {
    const first = planNetwork('six', { ipv6: true, subnet: ['10.89.40.0/24', 'fd00:40::/64'] }, context());
    expect(first).toMatchObject({ subnet: '10.89.40.0/24', subnet6: 'fd00:40::/64', gateway6: 'fd00:40::1' });
    const pooled = planNetwork('other', { ipv6: true, subnet: [] }, context([first, { ...first, name: 'x', subnet: '10.89.41.0/24', subnet6: 'fd89::/64' }], [{ subnet: Subnet6.parse('fd89:0:0:1::/64'), device: 'eth0' }]));
    expect(pooled).toMatchObject({ subnet6: 'fd89:0:0:2::/64', gateway6: 'fd89:0:0:2::1' });
    expect(planNetwork('v4', {}, context())).not.toHaveProperty('subnet6');
    expect(() => planNetwork('x', { subnet: 'fd00:1::/64' }, context())).toThrow(/an IPv6 subnet needs --ipv6/);
    expect(() => planNetwork('x', { ipv6: true, subnet: ['fd00:40::/56'] }, context([first]))).toThrow(/overlaps fd00:40::\/64 of network six/);
    expect(() => planNetwork('x', { ipv6: true, subnet: ['fd00:9::/64'] }, context([], [{ subnet: Subnet6.parse('fd00::/16'), device: 'wg0' }]))).toThrow(/overlaps fd00::\/16 of a route of the host via wg0/);
    expect(() => planNetwork('x', { ipv6: true, subnet: ['ff00::/64'] }, context())).toThrow(/multicast/);
    expect(() => planNetwork('x', { ipv6: true, subnet: ['fd00:1::/64', 'fd00:2::/64'] }, context())).toThrow(/at most one IPv4 and one IPv6 subnet/);
  });

  it("reads the host's IPv6 routes but the default, link-local, multicast, host and minictr ones", () => {
    const table = [
      '20010db8000000ff0000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 upstream0',
      'fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
      'fd004000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 mcbr0123456789',
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 20010db8000000ff0000000000000001 00000400 00000001 00000000 00000003 upstream0',
      '20010db8000000ff0000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo',
      'ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0',
      '',
    ].join('\n');
    expect(hostRoutes6(table).map((route) => `${route.subnet.toString()} ${route.device}`)).toEqual(['2001:db8:0:ff::/64 upstream0']);
  });

  it('leases the lowest free IPv6 address but the gateway, or the one asked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipam6-'));
    try {
      const subnet = Subnet6.parse('fd00:40::/64');
      const leases = new Ipam6(dir, subnet, subnet.gateway);
      expect(leases.claim('a', null)).toBe('fd00:40::2');
      expect(leases.claim('b', parseIpv6('fd00:40::80'))).toBe('fd00:40::80');
      expect(leases.peek(null)).toBe('fd00:40::3');
      expect(() => leases.claim('c', parseIpv6('fd00:40::80'))).toThrow(/address fd00:40::80 is already in use by container b/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('masquerades and isolates over IPv6 in an ip6 table beside the ip one', () => {
    const network = userNetwork(planNetwork('six', { ipv6: true, subnet: ['10.89.40.0/24', 'fd00:40::/64'] }, context()));
    const ruleset = networkRuleset(network);
    expect(ruleset).toContain('add table ip minictr_mcbrababababab');
    expect(ruleset).toContain('add table ip6 minictr_mcbrababababab');
    expect(ruleset).toMatch(/add rule ip6 minictr_mcbrababababab postrouting ip6 saddr fd00:40::\/64 oifname != "mcbrababababab" masquerade comment/);
    expect(ruleset).toMatch(/add rule ip6 minictr_mcbrababababab forward oifname "mcbrababababab" drop comment/);
    expect(ruleset).not.toMatch(/ip6 .*127\.0\.0\.0/);
    expect(ruleset).toContain('add map ip6 minictr_mcbrababababab published6 { type inet_proto . inet_service : ipv6_addr . inet_service; }');
    expect(ruleset).toMatch(/add rule ip6 minictr_mcbrababababab output ip6 daddr != ::1 fib daddr type local dnat ip6 to meta l4proto \. th dport map @published6 comment/);
    const internal = networkRuleset({ ...network, internal: true });
    expect(internal).not.toMatch(/masquerade comment.*\n.*ip6 saddr fd00:40::\/64 oifname !=/);
    expect(internal).toMatch(/add rule ip6 minictr_mcbrababababab forward iifname "mcbrababababab" drop/);
    expect(networkRuleset({ ...network, parsedSubnet6: null, parsedGateway6: null })).not.toContain('ip6');
  });

  it('gives the bridge its IPv6 gateway without duplicate address detection (RTM_NEWADDR, AF_INET6, IFA_F_NODAD)', () => {
    const request = replaceAddress6(7, parseIpv6('fd00:40::1')!, 'fd00:40::1', 64);
    expect(describeRequest(request)).toBe(
      'RTM_NEWADDR(NLM_F_CREATE|NLM_F_REPLACE) ifaddrmsg{AF_INET6, prefixlen 64, flags IFA_F_NODAD, index 7} IFA_LOCAL fd00:40::1, IFA_ADDRESS fd00:40::1',
    );
    const bytes = encodeRequests([request], 1);
    // nlmsghdr (16), ifaddrmsg: family 10, prefix 64, flags 2 (NODAD), scope 0, index 7; then IFA_LOCAL (len 20, type 2)
    expect([...bytes.subarray(16, 24)]).toEqual([10, 64, 2, 0, 7, 0, 0, 0]);
    expect(bytes.readUInt16LE(24)).toBe(20);
    expect(bytes.readUInt16LE(26)).toBe(2);
    expect(bytes.subarray(28, 44).toString('hex')).toBe('fd000040000000000000000000000001');
    expect(bytes.length).toBe(16 + 8 + 20 + 20);
    const bridge = bridgeOperation('mcbr1', Subnet.parse('10.89.40.0/24'), undefined, { subnet: Subnet6.parse('fd00:40::/64'), gateway: parseIpv6('fd00:40::1')! });
    expect(ipLines(bridge)).toEqual(['link add mcbr1 up address 02:6d:63:59:28:01 type bridge', 'addr replace 10.89.40.1/24 dev mcbr1', 'addr replace fd00:40::1/64 dev mcbr1 nodad']);
  });

  it('checks --ip6 against the network', () => {
    const network = userNetwork(planNetwork('six', { ipv6: true, subnet: ['10.89.40.0/24', 'fd00:40::/64'] }, context()));
    const base = { defaultRootfs: '/opt/rootfs', subnet: Subnet.parse('10.0.0.0/24'), hostEnv: {}, cwd: '/' };
    expect(buildRunSpec({ network: 'six', ip6: 'FD00:40:0::80' }, ['/bin/sh'], { ...base, network }).requestedIp6).toBe('fd00:40::80');
    expect(() => buildRunSpec({ network: 'six', ip6: 'fd00:40::1' }, ['/bin/sh'], { ...base, network })).toThrow(/invalid --ip6 fd00:40::1: is the gateway/);
    expect(() => buildRunSpec({ ip6: 'fd00:40::5' }, ['/bin/sh'], base)).toThrow(/--ip6 needs a network created with --ipv6/);
  });
});

describe('AAAA answers', () => {
  it("answers a dual-stack container's name with its IPv6 address, and an IPv4-only one's with no data", () => {
    const zone = buildZone([
      { id: 'a', address: '10.89.40.2', address6: 'fd00:40::2', names: ['web'], dns: [] },
      { id: 'b', address: '10.89.40.3', names: ['old'], dns: [] },
    ]);
    expect(lookup(zone, { name: 'web', type: TYPE_AAAA, class: 1 })).toEqual({ rcode: RCODE_NOERROR, answers: [{ type: TYPE_AAAA, address: 'fd00:40::2', ttl: 5 }] });
    expect(lookup(zone, { name: 'web', type: TYPE_A, class: 1 })).toEqual({ rcode: RCODE_NOERROR, answers: [{ type: TYPE_A, address: '10.89.40.2', ttl: 5 }] });
    expect(lookup(zone, { name: 'old', type: TYPE_AAAA, class: 1 })).toEqual({ rcode: RCODE_NOERROR, answers: [] });
    const query = encodeQuery(0x1234, 'web', TYPE_AAAA);
    const response = encodeResponse(query, parseQuery(query), RCODE_NOERROR, [{ type: TYPE_AAAA, address: 'fd00:40::2', ttl: 5 }]);
    expect(response.subarray(-16).toString('hex')).toBe('fd000040000000000000000000000002');
    expect(parseResponse(response)).toEqual({ id: 0x1234, rcode: RCODE_NOERROR, answers: [{ type: TYPE_AAAA, address: 'fd00:40::2', ttl: 5 }] });
  });
});
