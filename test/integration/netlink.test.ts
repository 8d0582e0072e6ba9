// rtnetlink without `ip`: the links minictr creates through its own netlink messages (src/netlink/, network/links.ts)
// are what `ip -d -j link show` reports, the links parsed from the kernel's own dump agree with it field by field,
// errors name the link and the errno, and a bridged run needs no `ip` program at all. The veth filter's qdisc and
// cls_bpf filter (network/veth-filter.ts, netlink/tc.ts) are what `tc -j` reports.

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

/** Attaches the veth filter to mcnltc0, twice (the second must fail), and reads its state as doctor does. */
const FILTER = `
import { nativeAddon } from ${dist('native/index.js')};
import { attachVethFilter, vethFilterState } from ${dist('network/veth-filter.js')};
const addon = nativeAddon();
const identity = { mac: '02:6d:63:4d:00:03', address: 0x0a4d0003 };
const messages = attachVethFilter(addon, 'mcnltc0', identity);
let again = null;
try { attachVethFilter(addon, 'mcnltc0', identity); } catch (error) { again = error.message; }
console.log(JSON.stringify({ messages, again, state: vethFilterState(addon, 'mcnltc0'), absent: vethFilterState(addon, 'mcnltc9') }));
`;

const STATE = `
import { nativeAddon } from ${dist('native/index.js')};
import { vethFilterState } from ${dist('network/veth-filter.js')};
console.log(vethFilterState(nativeAddon(), 'mcnltc0'));
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

  it('attaches the veth filter as tc sees it: a clsact qdisc and a direct-action cls_bpf filter on its ingress', async () => {
    const { host } = scratch;
    await host.must(['ip', 'link', 'add', 'mcnltc0', 'up', 'type', 'veth', 'peer', 'name', 'mcnltc1']);
    try {
      const out = await host.must([process.execPath, '--input-type=module', '-e', FILTER]);
      const { messages, again, state, absent } = JSON.parse(out) as { messages: string[]; again: string; state: string; absent: string };
      expect(messages[0]).toMatch(/^RTM_NEWQDISC\(NLM_F_CREATE\|NLM_F_EXCL\) tcmsg\{index \d+, handle ffff:, parent clsact\} TCA_KIND "clsact"$/);
      expect(messages[1]).toMatch(/^RTM_NEWTFILTER\(NLM_F_CREATE\|NLM_F_EXCL\) tcmsg\{index \d+, handle 1, parent ingress, pref 1, protocol all\} TCA_KIND "bpf", TCA_OPTIONS \{TCA_BPF_FD \d+, TCA_BPF_NAME "minictr_veth", TCA_BPF_FLAGS TCA_BPF_FLAG_ACT_DIRECT\}$/);
      expect(again).toMatch(/^tc qdisc add dev mcnltc0 clsact \(RTM_NEWQDISC\): File exists \(EEXIST\)/);
      expect([state, absent]).toEqual(['attached', 'no interface']);
      const qdiscs = JSON.parse(await host.must(['tc', '-j', 'qdisc', 'show', 'dev', 'mcnltc0'])) as { kind: string; handle: string; parent?: string }[];
      expect(qdiscs.filter((q) => q.kind === 'clsact')).toEqual([expect.objectContaining({ kind: 'clsact', handle: 'ffff:', parent: 'ffff:fff1' })]);
      type TcFilter = { protocol: string; pref: number; kind: string; options?: { handle: string; bpf_name: string; 'direct-action': boolean; prog: { name: string } } };
      const filters = (JSON.parse(await host.must(['tc', '-j', 'filter', 'show', 'dev', 'mcnltc0', 'ingress'])) as TcFilter[]).filter((f) => f.options !== undefined);
      expect(filters).toEqual([
        expect.objectContaining({
          protocol: 'all',
          pref: 1,
          kind: 'bpf',
          options: expect.objectContaining({ handle: '0x1', bpf_name: 'minictr_veth', 'direct-action': true, prog: expect.objectContaining({ name: 'minictr_veth' }) }),
        }),
      ]);
      // Without the qdisc, doctor's query finds it missing.
      await host.must(['tc', 'qdisc', 'del', 'dev', 'mcnltc0', 'clsact']);
      expect((await host.must([process.execPath, '--input-type=module', '-e', STATE])).trim()).toBe('missing');
    } finally {
      await host.exec(['ip', 'link', 'del', 'mcnltc0']);
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
