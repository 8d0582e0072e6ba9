// Whether a link exists, without asking the kernel over netlink: a look at /proc, for the checks that run often.

import { existsSync } from 'node:fs';

/**
 * Whether a link exists in minictr's own network namespace. /proc/sys/net is per network namespace of the reader,
 * whereas /sys/class/net shows the namespace of whoever mounted /sys, which in a scratch namespace is the host.
 */
export function linkExists(name: string): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${name}`);
}
