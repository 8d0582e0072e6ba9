// The loopback guard that no ruleset flush removes. route_localnet=1 on the bridge (which loopback clients of
// published ports need, see bridge.ts) would otherwise let a container reach the host's 127.0.0.1 services by
// sending to 127.x through the gateway. The nftables guard chain drops such packets, but `nft flush ruleset` (what
// reloading Debian's nftables.service does) removes it while route_localnet stays on. So the host end of every
// container's veth also carries this eBPF program on its tcx ingress (Linux 6.6+; no qdisc, no tc): it drops every
// IPv4 packet for 127.0.0.0/8 the container sends, and hands the rest on. Only a detach removes it, or the veth's
// end, which comes with the container's.
//
// Why each veth and not the bridge: with br_netfilter (bridge-nf-call-iptables=1) the bridge port's prerouting
// hook already undoes the NAT of a reply, so the answer to the host's own connection to a published 127.0.0.1 port
// reaches the bridge's ingress addressed to 127.0.0.1, and a guard there would drop it. At the veth's ingress,
// before the bridge, every packet is as the container sent it.
//
// route_localnet is turned on only where this kernel has tcx (lifecycle.ts): elsewhere loopback clients of published
// ports do not work, and containers never reach the host's loopback.

import { closeSync } from 'node:fs';
import { assemble, exit, jump, label, loadAbs, mov, R0, R1, R6 } from '../bpf/asm.js';
import type { NativeAddon } from '../native/index.js';

const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_TCX_INGRESS = 46;
/** tcx verdicts: on to the next program (or the stack), or drop. */
export const TCX_NEXT = -1;
export const TCX_DROP = 2;
const ETH_P_IP = 0x0800;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const ETH_TYPE_OFFSET = 12;
/** The first byte of the IPv4 destination: Ethernet header (14) + its offset in the IPv4 header (16). */
const DADDR_OFFSET = 14 + 16;

/**
 * At tc ingress skb->data is the Ethernet header, and the kernel has already taken one VLAN tag out of the packet.
 * A frame that still carries one (802.1Q or 802.1ad, stacked tags) is dropped: the bridge would untag it again on
 * its way to the host's IP stack, so its address could hide behind the tag, and a container has no use for it.
 * loadAbs reads through non-linear packets and ends the program (verdict 0, "pass") on one too short to hold the
 * destination, which IPv4 would drop anyway.
 */
export function loopbackGuardProgram(): Uint8Array {
  return assemble([
    mov(R6, R1), // loadAbs reads the packet through the context in r6
    loadAbs('u16', ETH_TYPE_OFFSET),
    jump('eq', R0, ETH_P_8021Q, 'drop'),
    jump('eq', R0, ETH_P_8021AD, 'drop'),
    jump('ne', R0, ETH_P_IP, 'next'),
    loadAbs('u8', DADDR_OFFSET),
    jump('ne', R0, 127, 'next'),
    label('drop'),
    mov(R0, TCX_DROP),
    exit(),
    label('next'),
    mov(R0, TCX_NEXT),
    exit(),
  ]);
}

export type GuardState = 'attached' | 'missing' | 'no interface' | 'unsupported';

const UNSUPPORTED = new Set([22 /* EINVAL: an attach type this kernel does not know */, 38 /* ENOSYS */, 95 /* EOPNOTSUPP */]);

/** Whether a program is on the tcx ingress of `ifname` (doctor; minictr's are its only users there). */
export function loopbackGuardState(addon: NativeAddon, ifname: string): GuardState {
  const ifindex = addon.interfaceIndex(ifname);
  if (ifindex === 0) return 'no interface';
  try {
    return addon.bpfProgQuery(ifindex, BPF_TCX_INGRESS).length > 0 ? 'attached' : 'missing';
  } catch (cause) {
    if (UNSUPPORTED.has((cause as { errno?: number }).errno ?? 0)) return 'unsupported';
    throw cause;
  }
}

/** Attaches the guard to the tcx ingress of `ifname`, a container's host end. False when this kernel has no tcx. */
export async function attachLoopbackGuard(addon: NativeAddon, ifname: string): Promise<boolean> {
  const ifindex = addon.interfaceIndex(ifname);
  if (ifindex === 0) throw new Error(`no interface ${ifname}`);
  const program = addon.bpfProgLoad(BPF_PROG_TYPE_SCHED_CLS, loopbackGuardProgram(), 'GPL', 'minictr_lo_guard', 0);
  try {
    await addon.bpfProgAttach(ifindex, program, BPF_TCX_INGRESS, 0);
    return true;
  } catch (cause) {
    if (UNSUPPORTED.has((cause as { errno?: number }).errno ?? 0)) return false;
    throw cause;
  } finally {
    closeSync(program); // the attachment holds the program for as long as the interface exists
  }
}
