// The filter on the host end of every container's veth: an eBPF program in a direct-action cls_bpf filter on the
// ingress of a clsact qdisc (what `tc qdisc add dev X clsact; tc filter add dev X ingress bpf da` make, sent here as
// rtnetlink requests), which sees every frame the container sends, as it sent it, before the bridge does. It holds
// two guarantees that nftables alone cannot:
//
// 1. The loopback guard, which no ruleset flush removes. route_localnet=1 on the bridge (which loopback clients of
//    published ports need, see bridge.ts) would otherwise let a container reach the host's 127.0.0.1 services by
//    sending to 127.x through the gateway. The nftables guard chain drops such packets, but `nft flush ruleset`
//    (what reloading Debian's nftables.service does) removes it while route_localnet stays on.
// 2. Anti-spoofing (which Docker lacks): a container sends only from its own MAC address, and IPv4 and ARP only from
//    its own IPv4 address, so it cannot pose as another container or the gateway to anyone on the bridge or to the
//    host. IPv6 is held to the MAC alone on an IPv4-only network (containers have only the link-local address it
//    derives); on a dual-stack network, IPv6 goes out only from the container's IPv6 address, that link-local
//    address (modified EUI-64 of the MAC) or the unspecified address (neighbour discovery before any). Any other
//    ethertype, and a frame that still carries a VLAN tag after the kernel took one out (stacked 802.1Q/802.1ad,
//    which could hide an address behind the tag), is dropped.
//
// One program per container, with its addresses built in: a packet meets one short program whatever the number of
// containers, and nothing is left to remove: the qdisc and its filter go with the veth, which goes with the
// container's namespace.
//
// Why clsact and not tcx (Linux 6.6's bpf(BPF_PROG_ATTACH) to a device): attaching to tcx waits for a full RCU grace
// period under RTNL even on a fresh device (tcx_prog_attach → tcx_entry_sync → synchronize_rcu(), kernel/bpf/tcx.c),
// 9-20 ms here on every run. Creating the qdisc and its filter waits at most for expedited grace periods
// (qdisc_graft's dev_deactivate → synchronize_net() on an up device; mini_qdisc_pair_swap's
// synchronize_rcu_expedited() when the first filter is published): both requests took 0.2 ms (median of 15 fresh
// veths; tcx 11.6 ms). clsact and cls_bpf's direct-action mode date from Linux 4.5.
//
// Why each veth and not the bridge: with br_netfilter (bridge-nf-call-iptables=1) the bridge port's prerouting
// hook already undoes the NAT of a reply, so the answer to the host's own connection to a published 127.0.0.1 port
// reaches the bridge's ingress addressed to 127.0.0.1, and a guard there would drop it.

import { closeSync } from 'node:fs';
import { assemble, exit, goto, jump, jump32, label, loadAbs, mov, R0, R1, R6 } from '../bpf/asm.js';
import type { NativeAddon } from '../native/index.js';
import { describeRequest } from '../netlink/message.js';
import { NETLINK_ROUTE } from '../netlink/route.js';
import { withNetlink } from '../netlink/socket.js';
import { dumpIngressFilters, newBpfFilter, newClsact, parseFilter } from '../netlink/tc.js';

const BPF_PROG_TYPE_SCHED_CLS = 3;
/** The program's name (as tc and bpftool show it), and its filter's place on the ingress hook. */
const PROGRAM_NAME = 'minictr_veth';
const PRIORITY = 1;
const HANDLE = 1;
/** Direct-action verdicts: on to the stack, or drop. */
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
const ETH_P_IP = 0x0800;
const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
// Offsets from the start of the frame (at tc ingress skb->data is the Ethernet header).
const ETH_SOURCE = 6;
const ETH_TYPE = 12;
const IPV4_SOURCE = 14 + 12;
const IPV4_DESTINATION = 14 + 16;
const IPV6_SOURCE = 14 + 8;
const ARP_SENDER_MAC = 14 + 8;
const ARP_SENDER_IPV4 = 14 + 14;

/** Who the container is on the bridge. */
export interface VethIdentity {
  /** aa:bb:cc:dd:ee:ff */
  mac: string;
  /** IPv4 address as a number. */
  address: number;
  /** On a dual-stack network: the IPv6 address, as a number. */
  address6?: bigint;
}

/** The link-local address the kernel derives from `mac` (modified EUI-64: fe80::, U/L bit flipped, ff:fe inserted). */
export function linkLocalOf(mac: number[]): bigint {
  const eui = [mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!];
  return (0xfe80n << 112n) | eui.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n);
}

/** The four 32-bit words of an IPv6 address, most significant first. */
function words(address: bigint): number[] {
  return [96n, 64n, 32n, 0n].map((shift) => Number((address >> shift) & 0xffffffffn));
}

/**
 * The program for one container. loadAbs yields bytes in network order as numbers; 32-bit values are compared with
 * jump32, whose immediate is not sign-extended. loadAbs ends the program (verdict 0, TC_ACT_OK) on a frame too short
 * for the field it reads: such a frame cannot hold the header that field belongs to, and IPv4 and ARP drop it.
 */
export function vethFilterProgram(identity: VethIdentity): Uint8Array {
  const mac = identity.mac.split(':').map((byte) => parseInt(byte, 16));
  const macHigh = ((mac[0]! << 24) | (mac[1]! << 16) | (mac[2]! << 8) | mac[3]!) >>> 0;
  const macLow = (mac[4]! << 8) | mac[5]!;
  const checkMac = (offset: number) => [
    loadAbs('u32', offset),
    jump32('ne', R0, macHigh, 'drop'),
    loadAbs('u16', offset + 4),
    jump('ne', R0, macLow, 'drop'),
  ];
  // The IPv6 source, one allowed address after the other: a word that differs goes on to the next candidate.
  const allowed6 = identity.address6 === undefined ? [] : [identity.address6, linkLocalOf(mac), 0n];
  const checkIpv6 = allowed6.flatMap((address, i) => [
    label(`ipv6_${i}`),
    ...words(address).flatMap((word, w) => [loadAbs('u32', IPV6_SOURCE + 4 * w), jump32('ne', R0, word, i + 1 < allowed6.length ? `ipv6_${i + 1}` : 'drop')]),
    goto('next'),
  ]);
  return assemble([
    mov(R6, R1), // loadAbs reads the packet through the context in r6
    ...checkMac(ETH_SOURCE),
    loadAbs('u16', ETH_TYPE),
    jump('eq', R0, ETH_P_IP, 'ipv4'),
    jump('eq', R0, ETH_P_ARP, 'arp'),
    jump('eq', R0, ETH_P_IPV6, allowed6.length > 0 ? 'ipv6_0' : 'next'),
    goto('drop'), // VLAN tags (0x8100, 0x88a8) and every other ethertype
    label('ipv4'),
    loadAbs('u32', IPV4_SOURCE),
    jump32('ne', R0, identity.address >>> 0, 'drop'),
    loadAbs('u8', IPV4_DESTINATION),
    jump('eq', R0, 127, 'drop'),
    goto('next'),
    label('arp'),
    ...checkMac(ARP_SENDER_MAC),
    loadAbs('u32', ARP_SENDER_IPV4),
    jump32('ne', R0, identity.address >>> 0, 'drop'),
    ...(checkIpv6.length > 0 ? [goto('next'), ...checkIpv6] : []),
    label('next'),
    mov(R0, TC_ACT_OK),
    exit(),
    label('drop'),
    mov(R0, TC_ACT_SHOT),
    exit(),
  ]);
}

type GuardState = 'attached' | 'missing' | 'no interface';

/** Whether minictr's filter is on the ingress of `ifname` (doctor): a dump of the filters there. */
export function vethFilterState(addon: NativeAddon, ifname: string): GuardState {
  const index = addon.interfaceIndex(ifname);
  if (index === 0) return 'no interface';
  const [dump] = withNetlink(addon, NETLINK_ROUTE, (socket) => socket.exchange([dumpIngressFilters(index)], () => `tc filter show dev ${ifname} ingress (RTM_GETTFILTER)`));
  if (dump!.error !== null) throw dump!.error;
  const ours = dump!.replies.map((reply) => parseFilter(reply.payload)).some(({ kind, bpf }) => kind === 'bpf' && bpf?.name === PROGRAM_NAME && bpf.directAction);
  return ours ? 'attached' : 'missing';
}

/** The `tc` commands that do what attachVethFilter does (--dry-run, --explain); the program is minictr's own. */
export function tcLines(ifname: string): string[] {
  return [`qdisc add dev ${ifname} clsact`, `filter add dev ${ifname} ingress pref ${PRIORITY} handle ${HANDLE} bpf direct-action <${PROGRAM_NAME}>`];
}

/**
 * Loads the filter's program and attaches it to `ifname`, a container's host end: a clsact qdisc and the cls_bpf
 * filter, two rtnetlink requests in one datagram. Returns the messages sent, described for --explain.
 */
export function attachVethFilter(addon: NativeAddon, ifname: string, identity: VethIdentity): string[] {
  const index = addon.interfaceIndex(ifname);
  if (index === 0) throw new Error(`no interface ${ifname}`);
  const program = addon.bpfProgLoad(BPF_PROG_TYPE_SCHED_CLS, vethFilterProgram(identity), 'GPL', PROGRAM_NAME, 0);
  try {
    const requests = [newClsact(index), newBpfFilter({ index, program: { fd: program, name: PROGRAM_NAME }, priority: PRIORITY, handle: HANDLE })];
    const lines = tcLines(ifname);
    const outcomes = withNetlink(addon, NETLINK_ROUTE, (socket) => socket.exchange(requests, (i) => `tc ${lines[i]!} (${requests[i]!.name})`));
    for (const { error } of outcomes) if (error !== null) throw error;
    return requests.map(describeRequest);
  } finally {
    closeSync(program); // the filter holds the program for as long as the interface exists
  }
}
