// The loopback guard that no ruleset flush removes. route_localnet=1 on the bridge (which loopback clients of
// published ports need, see bridge.ts) would otherwise let a container reach the host's 127.0.0.1 services by
// sending to 127.x through the gateway. The nftables guard chain drops such packets, but `nft flush ruleset` (what
// reloading Debian's nftables.service does) removes it while route_localnet stays on. So the bridge also carries
// this eBPF program on its tcx ingress (Linux 6.6+; no qdisc, no tc): it drops every IPv4 packet for 127.0.0.0/8
// arriving from the bridge, and hands the rest on. Only a detach, or deleting the bridge, removes it.
//
// A run checks it cheaply (one BPF_PROG_QUERY) and attaches it when missing; route_localnet is turned on only while
// it is attached (lifecycle.ts), so on kernels without tcx loopback clients of published ports do not work, and
// containers never reach the host's loopback. The id of the program attached is kept in the state directory, to
// tell minictr's guard from any other program there.

import { closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, exit, jump, label, loadAbs, mov, R0, R1, R6 } from '../bpf/asm.js';
import type { NativeAddon } from '../native/index.js';
import { BRIDGE, STATE_ROOT } from './names.js';

const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_TCX_INGRESS = 46;
/** tcx verdicts: on to the next program (or the stack), or drop. */
export const TCX_NEXT = -1;
export const TCX_DROP = 2;
const ETH_P_IP = 0x0800;
const ETH_TYPE_OFFSET = 12;
/** The first byte of the IPv4 destination: Ethernet header (14) + its offset in the IPv4 header (16). */
const DADDR_OFFSET = 14 + 16;

const GUARD_ID_FILE = join(STATE_ROOT, 'loopback-guard');

/**
 * At tc ingress skb->data is the Ethernet header; a VLAN tag is already out of the packet (the kernel untags before
 * tc). loadAbs reads through non-linear packets and ends the program (verdict 0, "pass") on one too short to hold
 * the destination, which IPv4 would drop anyway.
 */
export function loopbackGuardProgram(): Uint8Array {
  return assemble([
    mov(R6, R1), // loadAbs reads the packet through the context in r6
    loadAbs('u16', ETH_TYPE_OFFSET),
    jump('ne', R0, ETH_P_IP, 'next'),
    loadAbs('u8', DADDR_OFFSET),
    jump('ne', R0, 127, 'next'),
    mov(R0, TCX_DROP),
    exit(),
    label('next'),
    mov(R0, TCX_NEXT),
    exit(),
  ]);
}

export type GuardState = 'attached' | 'missing' | 'no bridge' | 'unsupported';

function recordedId(): number | null {
  try {
    return Number(readFileSync(GUARD_ID_FILE, 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

/** tcx's programs on the bridge's ingress; null when this kernel has no tcx. */
function attachedIds(addon: NativeAddon, ifindex: number): number[] | null {
  try {
    return addon.bpfProgQuery(ifindex, BPF_TCX_INGRESS);
  } catch (cause) {
    const errno = (cause as { errno?: number }).errno;
    if (errno === 22 /* EINVAL: unknown attach type */ || errno === 38 /* ENOSYS */ || errno === 95 /* EOPNOTSUPP */) return null;
    throw cause;
  }
}

/** Whether minictr's guard is on the bridge's ingress (doctor). */
export function loopbackGuardState(addon: NativeAddon): GuardState {
  const ifindex = addon.interfaceIndex(BRIDGE);
  if (ifindex === 0) return 'no bridge';
  const ids = attachedIds(addon, ifindex);
  if (ids === null) return 'unsupported';
  const id = recordedId();
  return id !== null && ids.includes(id) ? 'attached' : 'missing';
}

/** Attaches the guard to the bridge unless it is there. False when this kernel has no tcx (before Linux 6.6). */
export function ensureLoopbackGuard(addon: NativeAddon): boolean {
  const ifindex = addon.interfaceIndex(BRIDGE);
  if (ifindex === 0) throw new Error(`no interface ${BRIDGE}`);
  const before = attachedIds(addon, ifindex);
  if (before === null) return false;
  const id = recordedId();
  if (id !== null && before.includes(id)) return true;
  const program = addon.bpfProgLoad(BPF_PROG_TYPE_SCHED_CLS, loopbackGuardProgram(), 'GPL', 'minictr_lo_guard', 0);
  try {
    addon.bpfProgAttach(ifindex, program, BPF_TCX_INGRESS, 0);
  } finally {
    closeSync(program); // the attachment holds the program until the bridge is deleted
  }
  // The new id is the one that was not there before (a concurrent run may have attached its own copy: either will do).
  const added = (attachedIds(addon, ifindex) ?? []).filter((other) => !before.includes(other));
  if (added.length > 0) {
    const temporary = `${GUARD_ID_FILE}.${process.pid}`;
    writeFileSync(temporary, `${Math.max(...added)}\n`);
    renameSync(temporary, GUARD_ID_FILE);
  }
  return true;
}
