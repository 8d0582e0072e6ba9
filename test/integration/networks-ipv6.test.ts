// Dual-stack user-defined networks against the real kernel, in a scratch host whose "upstream" namespace is given
// IPv6 too: a container gets its IPv6 address and default route, reaches another container of its network and the
// upstream over IPv6 (through masquerade: the upstream sees the host's address), never a container of another
// network; bad IPv6 input is refused; `network rm` leaves the host (addresses, tables, routes) as it was.

import { describe, expect, it } from 'vitest';
import { httpGet, isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

describe.skipIf(!isRoot)('minictr network create --ipv6 (needs root: skipped otherwise)', () => {
  const context = useScratchHost({ prime: true });
  const ok = async (args: string[]) => {
    const result = await context.host.minictr(args);
    expect(result.exitCode, explain(result)).toBe(0);
    return result.stdout.trim();
  };
  /** Whether a container on `network` gets an IPv6 answer from `address`. */
  const reaches6 = async (network: string, address: string) => {
    const result = await context.host.minictr(['run', '--rm', '--network', network, '/bin/ping', '-6', '-c2', '-W1', address]);
    expect([0, 1], explain(result)).toContain(result.exitCode);
    return result.exitCode === 0;
  };

  it('refuses bad IPv6 input with exit 125, naming the flag, and creates nothing', async () => {
    const { host, before } = context;
    await ok(['network', 'create', 'v4only']);
    const cases: [string[], RegExp][] = [
      [['network', 'create', '--subnet', 'fd00:1::/64', 'x1'], /invalid --subnet fd00:1::\/64: an IPv6 subnet needs --ipv6/],
      [['network', 'create', '--ipv6', '--subnet', 'fd00:1::1/64', 'x2'], /invalid IPv6 subnet "fd00:1::1\/64": host bits set/],
      [['network', 'create', '--ipv6', '--subnet', 'fe80::/64', 'x3'], /invalid --subnet fe80::\/64: overlaps fe80::\/10, link-local/],
      [['network', 'create', '--ipv6', '--subnet', 'fd00:1::/64', '--subnet', 'fd00:2::/64', 'x4'], /at most one IPv4 and one IPv6 subnet/],
      [['network', 'create', '--ipv6', '--subnet', 'fd00:1::/124', 'x5'], /\/1 to \/120/],
      [['run', '--rm', '--network', 'v4only', '--ip6', 'fd00:1::5', '/bin/true'], /--ip6 needs a network created with --ipv6/],
    ];
    try {
      for (const [args, message] of cases) {
        const result = await host.minictr(args);
        expect(result.exitCode, explain(result)).toBe(125);
        expect(result.stderr, explain(result)).toMatch(message);
      }
      await ok(['network', 'create', '--ipv6', '--subnet', 'fd00:a::/64', 'dual']);
      const taken = await host.minictr(['network', 'create', '--ipv6', '--subnet', 'fd00:a::/48', 'x6']);
      expect(taken.stderr, explain(taken)).toMatch(/invalid --subnet fd00:a::\/48: overlaps fd00:a::\/64 of network dual/);
      for (const [ip6, message] of [
        ['fd00:b::5', /invalid --ip6 fd00:b::5: is outside the network's subnet fd00:a::\/64/],
        ['fd00:a::1', /invalid --ip6 fd00:a::1: is the gateway/],
        ['nonsense', /invalid --ip6 "nonsense": not an IPv6 address/],
      ] as const) {
        const result = await host.minictr(['run', '--rm', '--network', 'dual', '--ip6', ip6, '/bin/true']);
        expect(result.exitCode, explain(result)).toBe(125);
        expect(result.stderr).toMatch(message);
      }
    } finally {
      await host.minictr(['network', 'rm', 'v4only', 'dual']);
    }
    expect(await host.settle(before)).toEqual(before);
  }, 120_000);

  it('gives containers IPv6 addresses and a default route; they reach each other and the upstream over IPv6, not another network', async () => {
    const { host } = context;
    const upstream = await host.addUpstream();
    // The upstream over IPv6 too: 2001:db8:ff::1 behind the scratch host's 2001:db8:ff::2, its default route.
    await host.must(['ip', 'addr', 'add', '2001:db8:ff::2/64', 'dev', 'upstream0', 'nodad']);
    await upstream.must(['ip', 'addr', 'add', '2001:db8:ff::1/64', 'dev', 'eth0', 'nodad']);
    await host.must(['ip', '-6', 'route', 'add', 'default', 'via', '2001:db8:ff::1']);
    const withUpstream = await host.settle(await host.snapshot());
    const routes6 = async () => (await host.must(['ip', '-6', 'route'])).split('\n').sort();
    const forwarding = async () => (await host.must(['cat', '/proc/sys/net/ipv6/conf/all/forwarding'])).trim();
    const [routesBefore, forwardingBefore] = [await routes6(), await forwarding()];
    await ok(['network', 'create', '--ipv6', '--subnet', '10.89.40.0/24', '--subnet', 'fd00:40::/64', 'six']);
    await ok(['network', 'create', '--ipv6', 'other']);
    const inspected = JSON.parse(await ok(['network', 'inspect', 'other'])) as { IPAM: { Config: { Subnet: string; Gateway: string }[] }; EnableIPv6: boolean }[];
    expect(inspected[0]!.EnableIPv6).toBe(true);
    expect(inspected[0]!.IPAM.Config[1]).toEqual({ Subnet: 'fd89::/64', Gateway: 'fd89::1' });
    expect(await host.must(['ip', '-6', 'addr', 'show', 'dev', await bridgeOf('six')])).toMatch(/inet6 fd00:40::1\/64 scope global/);
    try {
      const page = 'mkdir -p /www && echo over-six > /www/index.html && exec /usr/sbin/httpd -f -p 80 -h /www';
      await ok(['run', '-d', '--rm', '--network', 'six', '--name', 'web6', '--ip6', 'fd00:40::80', '-p', '8086:80', '/bin/sh', '-c', page]);
      await ok(['run', '-d', '--rm', '--network', 'other', '--name', 'far', '/bin/sleep', '60']);
      const shown = await host.minictr(['run', '--rm', '--network', 'six', '--hostname', 'h6', '/bin/sh', '-c', 'ip -6 addr show dev eth0; ip -6 route; cat /etc/hosts']);
      expect(shown.stdout, explain(shown)).toMatch(/inet6 fd00:40::2\/64 scope global/);
      expect(shown.stdout).not.toMatch(/tentative/);
      expect(shown.stdout).toMatch(/default via fd00:40::1 dev eth0/);
      expect(shown.stdout).toMatch(/^fd00:40::2\th6$/m);
      expect(await reaches6('six', 'fd00:40::80')).toBe(true);
      // The upstream has no route to fd00:40::/64: its answer can only come back to the host's address (masquerade).
      expect(await reaches6('six', '2001:db8:ff::1')).toBe(true);
      expect(await reaches6('other', 'fd00:40::80')).toBe(false);
      expect(await reaches6('six', 'fd89::2')).toBe(false);
      let page6: Result | undefined;
      for (let tries = 0; tries < 20; tries++) {
        page6 = await host.minictr(['run', '--rm', '--network', 'six', '/usr/bin/wget', '-q', '-O', '-', 'http://[fd00:40::80]/']);
        if (page6.exitCode === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(page6!.stdout.trim(), explain(page6!)).toBe('over-six');
      // Anti-spoofing (the veth filter): another IPv6 source than its own never leaves the container.
      const spoof = 'ping -6 -c1 -W2 fd00:40::80 >/dev/null; echo own=$?; ip -6 addr add fd00:40::99/64 dev eth0 && ping -6 -c1 -W1 -I fd00:40::99 fd00:40::80; echo spoofed=$?';
      const spoofed = await host.minictr(['run', '--rm', '--network', 'six', '--cap-add', 'NET_ADMIN', '/bin/sh', '-c', spoof]);
      expect(spoofed.stdout, explain(spoofed)).toMatch(/own=0\n[^]*spoofed=1/);
      // Published over IPv6 too, on the host's IPv6 addresses: from the host itself and from the upstream.
      const fromHost = await httpGet((argv) => host.exec(argv), 'http://[2001:db8:ff::2]:8086/');
      expect(fromHost.stdout.trim(), explain(fromHost)).toBe('over-six');
      const fromUpstream = await httpGet((argv) => upstream.exec(argv), 'http://[2001:db8:ff::2]:8086/');
      expect(fromUpstream.stdout.trim(), explain(fromUpstream)).toBe('over-six');
      // connect: a container of another network gets eth1 on this one, dual-stack, without router advertisements.
      await ok(['network', 'connect', 'six', 'far']);
      const connected = await ok(['exec', 'far', '/bin/sh', '-c', 'ip -6 addr show dev eth1; cat /proc/sys/net/ipv6/conf/eth1/accept_ra']);
      expect(connected).toMatch(/inet6 fd00:40::[0-9a-f]+\/64 scope global (flags 02 )?\n/); // 02: nodad, never tentative
      expect(connected).toMatch(/^0$/m);
      expect((await host.minictr(['exec', 'far', '/bin/ping', '-6', '-c1', '-W2', 'fd00:40::80'])).exitCode).toBe(0);
      await ok(['network', 'disconnect', 'six', 'far']);
      // By name: the network's resolver answers AAAA with the container's IPv6 address.
      const byName = await host.minictr(['run', '--rm', '--network', 'six', '/usr/bin/wget', '-q', '-O', '-', 'http://web6/']);
      expect(byName.stdout.trim(), explain(byName)).toBe('over-six');
      const looked = await host.minictr(['run', '--rm', '--network', 'six', '/usr/bin/nslookup', '-type=AAAA', 'web6']);
      expect(looked.stdout, explain(looked)).toMatch(/Address: fd00:40::80$/m);
      expect(await forwarding()).toBe('1');
      const ruleset = await host.must(['nft', 'list', 'tables', 'ip6']);
      expect(ruleset).toMatch(/table ip6 minictr_mcbr[0-9a-f]{10}/);
    } finally {
      await host.removeAllContainers();
    }
    expect(await host.must(['nft', 'list', 'ruleset'])).not.toMatch(/tcp \. 8086/); // unpublished with its container
    expect(await ok(['network', 'rm', 'six', 'other'])).toBe('six\nother');
    // IPv6 forwarding stays on, as ip_forward does, with its former value kept for reset.
    const kept = { ...withUpstream, state: [...withUpstream.state, 'ipv6_forwarding.orig'].sort() };
    expect(await host.settle(kept)).toEqual(kept);
    expect(await routes6()).toEqual(routesBefore);
    await ok(['system', 'reset']);
    expect(await forwarding()).toBe(forwardingBefore);

    async function bridgeOf(name: string): Promise<string> {
      return (JSON.parse(await ok(['network', 'inspect', name])) as { Options: Record<string, string> }[])[0]!.Options['com.docker.network.bridge.name']!;
    }
  }, 240_000);
});
