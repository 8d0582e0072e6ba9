// A container's veth pair. The container end is created directly inside the child's network namespace: creating
// it on the host and moving it costs ~30 ms of RCU synchronisation, creating it in place under 1 ms. Nothing here
// deletes a veth at runtime: when the container's last process exits, its namespace dies and the kernel removes
// both ends (deleting by hand costs ~35 ms each). Only gc removes a host end whose namespace is somehow still held.

import { CommandError, runCommand } from '../sys/command.js';
import { linkExists } from './iproute.js';
import { BRIDGE, CONTAINER_IFNAME } from './names.js';

/**
 * ip batch lines for the pair: host end on the bridge, in hairpin mode, and up; the container end, with a MAC that
 * follows its address (names.ts), is configured by
 * the child. Hairpin mode lets the bridge send a frame back out of the port it came from, which a container
 * reaching its own published port needs when br_netfilter DNATs its packet back to it at the bridge (firewall.ts).
 */
export function vethLines(hostName: string, containerPid: number | string, containerMac: string, bridge = BRIDGE, ifname = CONTAINER_IFNAME): string[] {
  return [
    `link add ${hostName} type veth peer name ${ifname} address ${containerMac} netns ${containerPid}`,
    `link set ${hostName} master ${bridge}`,
    `link set ${hostName} type bridge_slave hairpin on`,
    `link set ${hostName} up`,
  ];
}

/** Deletes a host end left behind; gone already (or removed by the kernel meanwhile) counts as deleted. */
export async function deleteVethIfPresent(hostName: string): Promise<void> {
  if (!linkExists(hostName)) return;
  try {
    await runCommand(['ip', 'link', 'del', hostName]);
  } catch (cause) {
    if (!(cause instanceof CommandError && /Cannot find device/.test(cause.stderr))) throw cause;
  }
}
