// Linux capabilities a container keeps: Docker's default set, adjusted by --cap-add and --cap-drop (names with or
// without the CAP_ prefix, any case, or ALL). Pure: the child applies the result (native/src/child.cc) by dropping
// every other capability from its bounding set and its effective, permitted and inheritable sets before exec.

import { UsageError } from '../errors.js';

/** Capability numbers from <linux/capability.h>. */
export const CAPABILITIES: Readonly<Record<string, number>> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13, IPC_LOCK: 14,
  IPC_OWNER: 15, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20, SYS_ADMIN: 21,
  SYS_BOOT: 22, SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27, LEASE: 28,
  AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31, MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34, WAKE_ALARM: 35,
  BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};

/** Docker's default set (moby's oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES = [
  'CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP',
  'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE',
];

function canonical(name: string, flag: string): string {
  const upper = name.toUpperCase().replace(/^CAP_/, '');
  if (upper !== 'ALL' && !(upper in CAPABILITIES)) throw new UsageError(`invalid ${flag} "${name}": unknown capability`);
  return upper;
}

/**
 * The capabilities a container keeps, as sorted numbers. ALL in --cap-drop starts from none and ALL in --cap-add
 * from every capability; then the named adds apply, then the named drops.
 */
export function resolveCapabilities(add: readonly string[], drop: readonly string[]): number[] {
  const adds = add.map((name) => canonical(name, '--cap-add'));
  const drops = drop.map((name) => canonical(name, '--cap-drop'));
  let kept = new Set(drops.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  if (adds.includes('ALL')) kept = new Set(Object.keys(CAPABILITIES));
  for (const name of adds) if (name !== 'ALL') kept.add(name);
  for (const name of drops) if (name !== 'ALL') kept.delete(name);
  return [...kept].map((name) => CAPABILITIES[name]!).sort((a, b) => a - b);
}
