// A container's veth pair. The container end is created directly inside the child's network namespace: creating
// it on the host and moving it costs ~30 ms of RCU synchronisation, creating it in place under 1 ms. Nothing here
// deletes a veth at runtime: when the container's last process exits, its namespace dies and the kernel removes
// both ends (deleting by hand costs ~35 ms each). Only gc removes a host end whose namespace is somehow still held.

import { nativeAddon } from '../native/index.js';
import { linkExists } from './iproute.js';
import { applyLinks, type VethOperation } from './links.js';
import { CONTAINER_IFNAME } from './names.js';

/**
 * The pair: host end on `bridge`, in hairpin mode, and up; the container end, with a MAC that follows its address
 * (names.ts), is configured by the child. Hairpin mode lets the bridge send a frame back out of the port it came
 * from, which a container reaching its own published port needs when br_netfilter DNATs its packet back to it at
 * the bridge (firewall.ts).
 */
export function vethOperation(
  hostName: string,
  bridge: string,
  containerPid: number | string,
  containerMac: string,
  ifname = CONTAINER_IFNAME,
): VethOperation {
  return { kind: 'veth', name: hostName, master: bridge, peer: { name: ifname, mac: containerMac, netns: containerPid } };
}

/** Deletes a host end left behind; gone already (or removed by the kernel meanwhile) counts as deleted. */
export function deleteVethIfPresent(hostName: string): void {
  if (linkExists(hostName)) applyLinks(nativeAddon(), [{ kind: 'delete', name: hostName }]);
}
