// Which device nodes a container may use: Docker's default set (null, zero, full, random, urandom, tty, console,
// ptmx and the pseudo-terminals) for read, write and mknod, mknod alone of any other node (creating one is
// harmless when it cannot be opened), and each --device. On cgroup v1 the rules are lines for devices.allow; on
// cgroup v2 they become a BPF_CGROUP_DEVICE program, as runc (libcontainer/cgroups/devices) and crun generate it:
// one block per rule that returns 1 (allow) when the access matches, and 0 (deny) after the last.

import { and, assemble, exit, jump, label, load, mov, R0, R1, R2, R3, R4, R5, rsh, type Item } from './asm.js';

export type DeviceType = 'c' | 'b';
/** r, w and m, in that order: a non-empty subset of "rwm". */
export type DeviceAccess = string;

export interface DeviceRule {
  type: DeviceType;
  /** null: any. */
  major: number | null;
  minor: number | null;
  access: DeviceAccess;
}

const rwm = (major: number, minor: number | null): DeviceRule => ({ type: 'c', major, minor, access: 'rwm' });

/** Docker's default device rules. */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { type: 'c', major: null, minor: null, access: 'm' },
  { type: 'b', major: null, minor: null, access: 'm' },
  rwm(1, 3), // null
  rwm(1, 5), // zero
  rwm(1, 7), // full
  rwm(1, 8), // random
  rwm(1, 9), // urandom
  rwm(5, 0), // tty
  rwm(5, 1), // console
  rwm(5, 2), // ptmx
  rwm(136, null), // pts
];

/** The rule as a devices.allow line: "c 1:3 rwm", "b *:* m". */
export function allowLine(rule: DeviceRule): string {
  return `${rule.type} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access}`;
}

/** Normalizes an access string to "rwm" order; null when it is not a non-empty subset of rwm. */
export function parseAccess(text: string): DeviceAccess | null {
  if (!/^[rwm]{1,3}$/.test(text) || new Set(text).size !== text.length) return null;
  return ['r', 'w', 'm'].filter((letter) => text.includes(letter)).join('');
}

// struct bpf_cgroup_dev_ctx and its encodings (include/uapi/linux/bpf.h).
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;
const DEV_TYPE: Record<DeviceType, number> = { b: 1, c: 2 };
const ACCESS_BIT: Record<string, number> = { m: 1, r: 2, w: 4 };

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
/** Every program on the path from the root cgroup runs, and all must allow (systemd's own stay in force). */
export const BPF_F_ALLOW_MULTI = 2;

/** The BPF_CGROUP_DEVICE program allowing exactly `rules`. */
export function deviceFilterProgram(rules: readonly DeviceRule[]): Uint8Array {
  // r2 = device type, r3 = requested access bits, r4 = major, r5 = minor; r1 is free after the loads.
  const items: Item[] = [
    load('u32', R2, R1, CTX_ACCESS_TYPE),
    and(R2, 0xffff),
    load('u32', R3, R1, CTX_ACCESS_TYPE),
    rsh(R3, 16),
    load('u32', R4, R1, CTX_MAJOR),
    load('u32', R5, R1, CTX_MINOR),
  ];
  rules.forEach((rule, index) => {
    const next = `rule${index + 1}`;
    const bits = [...rule.access].reduce((sum, letter) => sum | ACCESS_BIT[letter]!, 0);
    items.push(jump('ne', R2, DEV_TYPE[rule.type], next));
    if (bits !== 7) {
      // Every requested bit must be among the rule's: (access & bits) == access.
      items.push(mov(R1, R3), and(R1, bits), jump('ne', R1, R3, next));
    }
    if (rule.major !== null) items.push(jump('ne', R4, rule.major, next));
    if (rule.minor !== null) items.push(jump('ne', R5, rule.minor, next));
    items.push(mov(R0, 1), exit(), label(next));
  });
  items.push(mov(R0, 0), exit());
  return assemble(items);
}
