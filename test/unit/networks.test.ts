import { describe, expect, it } from 'vitest';
import { withDnsFlags } from '../../src/container/etc-files.js';
import { buildRunSpec, type RunFlags } from '../../src/container/spec.js';
import { hostRoutes, planNetwork, type NetworkDefinition } from '../../src/network/networks.js';
import { networkRuleset } from '../../src/network/network-firewall.js';
import { Subnet } from '../../src/network/subnet.js';

const ID = 'ab'.repeat(32);
const context = (existing: NetworkDefinition[] = [], routes: { subnet: Subnet; device: string }[] = []) => ({ existing, routes, id: ID, now: '2026-01-01T00:00:00.000Z' });

describe('planNetwork', () => {
  it('takes the first free /24 of 10.89.0.0/16 and names the bridge after the id', () => {
    const first = planNetwork('front', {}, context());
    expect(first).toEqual({
      name: 'front',
      id: ID,
      bridge: 'mcbrababababab',
      subnet: '10.89.0.0/24',
      gateway: '10.89.0.1',
      internal: false,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    const routes = [{ subnet: Subnet.parse('10.89.1.0/24'), device: 'eth1' }];
    expect(planNetwork('back', { internal: true }, context([first], routes))).toMatchObject({ subnet: '10.89.2.0/24', internal: true });
  });

  it('checks --subnet against the default network, the other networks and the host routes', () => {
    const first = planNetwork('front', {}, context());
    expect(() => planNetwork('x', { subnet: '10.0.0.128/25' }, context())).toThrow(/overlaps 10\.0\.0\.0\/24 of the default network bridge/);
    expect(() => planNetwork('x', { subnet: '10.88.0.0/15' }, context([first]))).toThrow(/overlaps 10\.89\.0\.0\/24 of network front/);
    expect(() => planNetwork('x', { subnet: '192.168.1.0/24' }, context([], [{ subnet: Subnet.parse('192.168.0.0/16'), device: 'wlan0' }]))).toThrow(
      /overlaps 192\.168\.0\.0\/16 of a route of the host via wlan0/,
    );
    expect(planNetwork('x', { subnet: '172.30.0.0/16', gateway: '172.30.255.254' }, context([first]))).toMatchObject({ subnet: '172.30.0.0/16', gateway: '172.30.255.254' });
  });

  it('refuses bad names, built-in and existing names, and gateways outside the subnet', () => {
    const first = planNetwork('front', {}, context());
    expect(() => planNetwork('../x', {}, context())).toThrow(/invalid network name/);
    expect(() => planNetwork('host', {}, context())).toThrow(/built-in network/);
    expect(() => planNetwork('front', {}, context([first]))).toThrow(/network front already exists/);
    expect(() => planNetwork('x', { subnet: '10.1.0.0/24', gateway: '10.1.0.255' }, context())).toThrow(/invalid --gateway 10\.1\.0\.255: not a host address/);
    expect(() => planNetwork('x', { subnet: '10.1.0.0/24', gateway: 'gw' }, context())).toThrow(/not an IPv4 address/);
    expect(() => planNetwork('x', { gateway: '10.1.0.1' }, context())).toThrow(/--gateway needs --subnet/);
  });
});

describe('hostRoutes', () => {
  it("reads /proc/net/route, leaving out the default route and minictr's own bridges", () => {
    const table = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'minictr0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'mcbr0123456789\t0000590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'wg0\t0000100A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
      '',
    ].join('\n');
    expect(hostRoutes(table).map((route) => `${route.subnet.toString()} ${route.device}`)).toEqual(['192.168.2.0/24 eth0', '10.16.0.0/16 wg0']);
  });
});

describe('network tables', () => {
  const network = { ...planNetwork('front', {}, context()), parsedSubnet: Subnet.parse('10.89.0.0/24'), parsedGateway: 0x0a590001, parsedSubnet6: null, parsedGateway6: null };

  it('masquerades and drops what other bridges send in; internal drops everything through the bridge', () => {
    const ruleset = networkRuleset(network);
    expect(ruleset).toContain('add table ip minictr_mcbrababababab');
    expect(ruleset).toMatch(/add rule ip minictr_mcbrababababab postrouting ip saddr 10\.89\.0\.0\/24 oifname != "mcbrababababab" masquerade comment "minictr-net-[0-9a-f]{12}"/);
    expect(ruleset).toMatch(/forward oifname "mcbrababababab" drop/);
    const internal = networkRuleset({ ...network, internal: true });
    expect(internal).not.toContain('oifname != "mcbrababababab" masquerade');
    expect(internal).toMatch(/forward iifname "mcbrababababab" drop/);
  });
});

describe('withDnsFlags', () => {
  const host = 'search corp.example\nnameserver 192.0.2.1\noptions ndots:2\n';

  it('replaces nameservers and search domains only when given', () => {
    expect(withDnsFlags(host, [], [])).toBe(host);
    expect(withDnsFlags(host, ['10.89.0.1'], [])).toBe('search corp.example\noptions ndots:2\nnameserver 10.89.0.1\n');
    expect(withDnsFlags(host, ['198.51.100.1', '198.51.100.2'], ['a.test', 'b.test'])).toBe('search a.test b.test\noptions ndots:2\nnameserver 198.51.100.1\nnameserver 198.51.100.2\n');
  });

  it('drops the comment about a host with only loopback servers once servers are given', () => {
    expect(withDnsFlags('# minictr: the host has only loopback nameservers, which cannot be reached from a container\n', ['10.89.0.1'], [])).toBe('nameserver 10.89.0.1\n');
  });
});

describe('buildRunSpec on a user-defined network', () => {
  const network = { ...planNetwork('app', { subnet: '172.30.5.0/24', gateway: '172.30.5.254' }, context()), parsedSubnet: Subnet.parse('172.30.5.0/24'), parsedGateway: 0xac1e05fe, parsedSubnet6: null, parsedGateway6: null };
  const base = { defaultRootfs: '/opt/rootfs', subnet: Subnet.parse('10.0.0.0/24'), hostEnv: {}, cwd: '/' };
  const build = (flags: RunFlags) => buildRunSpec({ network: 'app', ...flags }, ['/bin/sh'], { ...base, network });

  it("takes the network's subnet for --ip, and its gateway for --add-host host-gateway", () => {
    const spec = build({ ip: '172.30.5.9', addHost: ['gw:host-gateway', 'db:10.1.2.3'], networkAlias: ['www'], dns: ['192.0.2.1'], dnsSearch: ['corp.test'] });
    expect(spec).toMatchObject({ network: 'bridge', userNetwork: { name: 'app' }, requestedIp: 0xac1e0509, aliases: ['www'], dns: ['192.0.2.1'], dnsSearch: ['corp.test'] });
    expect(spec.addHosts).toEqual([{ name: 'gw', address: '172.30.5.254' }, { name: 'db', address: '10.1.2.3' }]);
    expect(() => build({ ip: '10.0.0.5' })).toThrow(/invalid --ip 10\.0\.0\.5: is outside the container subnet 172\.30\.5\.0\/24/);
    expect(() => build({ ip: '172.30.5.254' })).toThrow(/invalid --ip 172\.30\.5\.254: is the gateway of network app/);
  });

  it('refuses -p on an internal network, and aliases, bad --dns and --add-host anywhere', () => {
    const internal = { ...network, internal: true };
    expect(() => buildRunSpec({ network: 'app', publish: ['80'] }, ['/bin/sh'], { ...base, network: internal })).toThrow(/network app is internal/);
    expect(() => buildRunSpec({ networkAlias: ['www'] }, ['/bin/sh'], base)).toThrow(/--network-alias needs a user-defined network/);
    expect(() => buildRunSpec({ dns: ['::1'] }, ['/bin/sh'], base)).toThrow(/invalid --dns "::1"/);
    expect(() => buildRunSpec({ addHost: ['db:nowhere'] }, ['/bin/sh'], base)).toThrow(/invalid --add-host "db:nowhere"/);
    expect(() => buildRunSpec({ network: 'other' }, ['/bin/sh'], { ...base, network })).toThrow(/invalid --network "other"/);
  });
});
