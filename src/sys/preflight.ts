// Checks that the machine can run a container before anything is created, so a missing privilege, kernel feature
// or program is reported as such instead of as a failed step halfway through a run.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../errors.js';

export const NAMESPACES = [
  ['net', 'CONFIG_NET_NS'],
  ['pid', 'CONFIG_PID_NS'],
  ['mnt', 'mount namespaces'],
  ['uts', 'CONFIG_UTS_NS'],
  ['ipc', 'CONFIG_IPC_NS'],
] as const;

/** The host programs a bridged run needs, with the Debian package that has them (links are made over netlink). */
export const NETWORK_PROGRAMS = [['nft', 'nftables']] as const;

export function findInPath(program: string, path = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export function overlayAvailable(): boolean {
  if (/\toverlay\n/.test(readFileSync('/proc/filesystems', 'utf8'))) return true;
  // Not loaded yet: mount(2) loads it on demand when the module is installed.
  return existsSync('/sys/module/overlay') || existsSync(`/lib/modules/${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}/kernel/fs/overlayfs`);
}

export function preflight(options: { needsNetworkTools: boolean }): void {
  if (process.getuid?.() !== 0) {
    throw new UsageError('minictr must run as root: it creates namespaces, network links and firewall rules');
  }
  for (const [ns, feature] of NAMESPACES) {
    if (!existsSync(`/proc/self/ns/${ns}`)) throw new UsageError(`kernel feature missing: ${ns} namespaces (${feature})`);
  }
  if (!overlayAvailable()) throw new UsageError('kernel feature missing: overlayfs (CONFIG_OVERLAY_FS)');
  if (options.needsNetworkTools) {
    for (const [program, pkg] of NETWORK_PROGRAMS) {
      if (findInPath(program) === null) {
        throw new UsageError(`${program} not found in PATH: install it with "apt-get install ${pkg}"`);
      }
    }
  }
}
