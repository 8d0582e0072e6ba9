// rtnetlink without `ip`: the links minictr creates through its own netlink messages (src/netlink/, network/links.ts)
// are what `ip -d -j link show` reports, the links parsed from the kernel's own dump agree with it field by field,
// errors name the link and the errno, and a bridged run needs no `ip` program at all.

import { readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';
import type { Link } from '../../src/netlink/route.js';

const dist = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../dist/${path}`, import.meta.url)));

/** Run in the scratch host: creates a bridge and a veth whose peer goes to the namespace of process PID, twice. */
const SCRIPT = `
import { nativeAddon } from ${dist('native/index.js')};
import { applyLinks } from ${dist('network/links.js')};
import { bridgeOperation } from ${dist('network/bridge.js')};
import { vethOperation } from ${dist('network/veth.js')};
import { Subnet } from ${dist('network/subnet.js')};
const addon = nativeAddon();
const pid = Number(process.argv[1]);
const veth = vethOperation('mcnltest0', 'nlbr0', pid, '02:6d:63:4d:00:02');
const applied = applyLinks(addon, [bridgeOperation('nlbr0', Subnet.parse('10.77.0.0/24')), veth]);
let duplicate = null;
try { applyLinks(addon, [veth]); } catch (error) { duplicate = error.message; }
console.log(JSON.stringify({ applied, duplicate }));
`;

/** The kernel's dump of the scratch host's links, parsed. */
const DUMP = `
import { nativeAddon } from ${dist('native/index.js')};
import { withNetlink } from ${dist('netlink/socket.js')};
import { dumpLinks, NETLINK_ROUTE, parseLink } from ${dist('netlink/route.js')};
const [dump] = withNetlink(nativeAddon(), NETLINK_ROUTE, (socket) => socket.exchange([dumpLinks()], () => 'dump links'));
if (dump.error !== null) throw dump.error;
console.log(JSON.stringify(dump.replies.map((reply) => parseLink(reply.payload))));
`;

/** Then: a bridge that exists already (a concurrent run's) and a link deleted twice are no failures. */
const AGAIN = `
import { nativeAddon } from ${dist('native/index.js')};
import { applyLinks } from ${dist('network/links.js')};
import { bridgeOperation } from ${dist('network/bridge.js')};
import { Subnet } from ${dist('network/subnet.js')};
const again = applyLinks(nativeAddon(), [
  bridgeOperation('nlbr0', Subnet.parse('10.77.0.0/24')), { kind: 'delete', name: 'mcnltest0' }, { kind: 'delete', name: 'mcnltest0' },
]);
console.log(JSON.stringify(again.map((applied) => applied.changed)));
`;

interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address?: string;
  operstate: string;
  master?: string;
  linkinfo?: { info_kind?: string; info_slave_kind?: string; info_slave_data?: { hairpin?: boolean } };
}

describe.skipIf(!isRoot)('rtnetlink links (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();

  it('creates the bridge and the veth as ip sees them, and parses every link as ip -d -j link show does', async () => {
    const { host } = scratch;
    const holder: ResultPromise = host.exec(['unshare', '--net', '--', 'sleep', 'infinity']);
    try {
      const pid = holder.pid!;
      const netns = (p: number | string) => readlinkSync(`/proc/${p}/ns/net`);
      for (let i = 0; i < 100 && (netns(pid) === netns(host.pid) || netns(pid) === netns('self')); i++) await new Promise((r) => setTimeout(r, 20));
      const out = await host.must([process.execPath, '--input-type=module', '-e', SCRIPT, String(pid)]);
      const { applied, duplicate } = JSON.parse(out) as { applied: { changed: boolean; messages: string[] }[]; duplicate: string };
      expect(applied.map((a) => a.changed)).toEqual([true, true]);
      expect(applied[1]!.messages[0]).toContain(`IFLA_NET_NS_PID ${pid}`);
      expect(duplicate).toMatch(/^ip link add mcnltest0 up master nlbr0 type veth .*\(RTM_NEWLINK\): File exists \(EEXIST\)/);

      // The parsed dump against ip's view, taken between two of ip's that agree: operstate settles after creation.
      const fromIp = async () => {
        const ip = JSON.parse(await host.must(['ip', '-d', '-j', 'link', 'show'])) as IpLink[];
        return ip.map((seen) => ({
          ifindex: seen.ifindex,
          ifname: seen.ifname,
          up: seen.flags.includes('UP'),
          mtu: seen.mtu,
          address: seen.address ?? null,
          operstate: seen.operstate,
          master: seen.master ?? null,
          kind: seen.linkinfo?.info_kind ?? null,
          slaveKind: seen.linkinfo?.info_slave_kind ?? null,
          hairpin: seen.linkinfo?.info_slave_data?.hairpin ?? null,
        }));
      };
      let links: Link[] = [];
      let parsed: unknown;
      let seen: unknown;
      for (let attempt = 0; attempt < 20; attempt++) {
        const before = await fromIp();
        links = JSON.parse(await host.must([process.execPath, '--input-type=module', '-e', DUMP])) as Link[];
        const names = new Map(links.map((link) => [link.ifindex, link.ifname]));
        parsed = links.map((link) => ({ ...link, master: link.master === null ? null : names.get(link.master) }));
        seen = await fromIp();
        if (JSON.stringify(before) === JSON.stringify(seen)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(parsed).toEqual(seen);
      const veth = links.find((l) => l.ifname === 'mcnltest0')!;
      const bridge = links.find((l) => l.ifname === 'nlbr0')!;
      expect(veth).toMatchObject({ kind: 'veth', master: bridge.ifindex, hairpin: true, up: true });
      expect(bridge).toMatchObject({ kind: 'bridge', address: '02:6d:63:4d:00:01', up: true });
      expect(await host.must(['ip', '-4', '-o', 'addr', 'show', 'dev', 'nlbr0'])).toContain('inet 10.77.0.1/24');
      // The peer was created in the holder's namespace, with its MAC, and never existed on the host.
      const inHolder = () => host.must(['nsenter', '-t', String(pid), '--net', 'ip', '-o', 'link', 'show']);
      expect(await inHolder()).toMatch(/eth0@if\d+: .* link\/ether 02:6d:63:4d:00:02/);
      expect(JSON.parse(await host.must([process.execPath, '--input-type=module', '-e', AGAIN]))).toEqual([false, true, false]);
      expect(await inHolder()).not.toContain('eth0'); // deleting the host end took its peer with it
    } finally {
      holder.kill('SIGKILL');
      await holder;
      await host.exec(['ip', 'link', 'del', 'nlbr0']);
    }
  });

  it('runs a bridged container with no ip program in PATH', async () => {
    const { host } = scratch;
    await host.must(['mkdir', '-p', '/run/nft-only']);
    await host.must(['sh', '-c', 'ln -sf "$(command -v nft)" /run/nft-only/nft']);
    const result = await host.exec(['env', 'PATH=/run/nft-only', process.execPath, CLI, 'run', '--rm', '/bin/sh', '-c', 'ping -c 1 -W 2 10.0.0.1']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toContain('1 packets received');
  });

  it('fails a run whose veth cannot join minictr0 naming the veth, the request and the errno, leaving nothing behind', async () => {
    const { host } = scratch;
    // minictr0 exists but is no bridge: the kernel refuses to enslave the veth to it, and unregisters the new veth.
    await host.must(['ip', 'link', 'del', 'minictr0']);
    await host.must(['ip', 'link', 'add', 'minictr0', 'type', 'veth', 'peer', 'name', 'nlpeer0']);
    try {
      const before = await host.settle(await host.snapshot());
      const result = await host.minictr(['run', '--rm', '/bin/true']);
      expect(result.exitCode, result.stderr).toBe(125);
      expect(result.stderr).toMatch(
        /create veth (mc[0-9a-f]{12}) on minictr0 \(eth0 in the netns of pid \d+\): ip link add \1 up master minictr0 type veth .*\(RTM_NEWLINK\): Operation not supported \(EOPNOTSUPP\)/,
      );
      expect(await host.settle(before)).toEqual(before);
    } finally {
      await host.must(['ip', 'link', 'del', 'minictr0']);
    }
  });
});
