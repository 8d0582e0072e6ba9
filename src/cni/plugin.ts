// What each CNI command does on the host, with the pieces `minictr run` attaches a container with: the bridge
// (bridge.ts's lines, with the gateway address), the network's own nftables table (network-firewall.ts: masquerade,
// isolation from other bridges, the loopback guard), published ports as elements of minictr's DNAT maps
// (firewall.ts) held in minictr's port registry (ports.ts), address leases (ipam.ts), the veth pair created with its
// container end directly in the target namespace (veth.ts) and the eBPF veth filter (anti-spoofing, loopback guard).
// What differs from a run: the namespace is a path the runtime made (CNI_NETNS), not a child's pid, so the address
// and default route inside are set by `nsenter --net=PATH ip`; and the record (attachments.ts) stands for the
// container's journal.

import { closeSync, openSync } from 'node:fs';
import { CniError, ErrorCode, addResult, type AttachmentKey, type CniNetwork } from './protocol.js';
import { createRecord, hostVethOf, leasesOf, listRecords, ownerOf, readRecord, removeRecord, updateRecord, type AttachmentRecord } from './attachments.js';
import { messageOf, UsageError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import { bridgeOperation, ensureForwarding, ensureNoRouterAdvertisements, ensureRouteLocalnet } from '../network/bridge.js';
import { ensureRuleset, publishLines, unpublish } from '../network/firewall.js';
import { linkExists } from '../network/iproute.js';
import { applyLinks, linkKind } from '../network/links.js';
import { BRIDGE, macFor, SUBNET_CIDR } from '../network/names.js';
import { ensureNetworkTable } from '../network/network-firewall.js';
import { hostRoutes, listNetworks, type UserNetwork } from '../network/networks.js';
import { checkHostPorts, PortRegistry, type PortMapping } from '../network/ports.js';
import { formatIpv4, parseIpv4, Subnet } from '../network/subnet.js';
import { attachVethFilter } from '../network/veth-filter.js';
import { deleteVethIfPresent, vethOperation } from '../network/veth.js';
import { PATHS } from '../paths.js';
import { runCommand } from '../sys/command.js';

function portRegistry(): PortRegistry {
  return new PortRegistry(PATHS.ports);
}

/** The CNI network in the shape network-firewall.ts builds a table for: an ordinary, not internal, network. */
function asUserNetwork(network: CniNetwork): UserNetwork {
  return {
    name: network.name,
    id: '',
    bridge: network.bridge,
    subnet: network.subnet.toString(),
    gateway: formatIpv4(network.gateway),
    internal: false,
    createdAt: '',
    parsedSubnet: network.subnet,
    parsedGateway: network.gateway,
    parsedSubnet6: null,
    parsedGateway6: null,
  };
}

/**
 * A subnet the host reaches otherwise (a route, minictr's networks) would be taken from it: refused. The route of
 * the network's own bridge is its own.
 */
function checkSubnetFree(network: CniNetwork): void {
  const overlaps = (other: Subnet) => network.subnet.contains(other.network) || other.contains(network.subnet.network);
  const taken = [
    { subnet: Subnet.parse(SUBNET_CIDR), what: `minictr's default network (${BRIDGE})` },
    ...listNetworks().map((other) => ({ subnet: other.parsedSubnet, what: `minictr network ${other.name}` })),
    ...hostRoutes()
      .filter((route) => route.device !== network.bridge)
      .map((route) => ({ subnet: route.subnet, what: `a route of the host via ${route.device}` })),
  ].find((other) => overlaps(other.subnet));
  if (taken !== undefined) {
    throw new CniError(ErrorCode.invalidConfig, `network ${network.name}: subnet ${network.subnet.toString()} overlaps ${taken.subnet.toString()} of ${taken.what}`);
  }
}

/**
 * An existing link of the bridge's name must be a bridge: the steps after would otherwise give another device (a
 * config naming eth0) the network's table, whose `oifname … drop` cuts the host's forwarding through it, and turn
 * off its router advertisements, before the veth failed to join it.
 */
function checkBridge(network: CniNetwork): void {
  if (!linkExists(network.bridge)) return;
  const kind = linkKind(nativeAddon(), network.bridge);
  if (kind !== undefined && kind !== 'bridge') {
    throw new CniError(ErrorCode.invalidConfig, `network config: "bridge" ${network.bridge} is an existing ${kind ?? 'device'} link, not a bridge`);
  }
}

/** Runs `ip` inside the namespace at `netns`. */
function ipInside(netns: string, lines: string[]): Promise<unknown> {
  return runCommand(['nsenter', `--net=${netns}`, 'ip', '-batch', '-'], `${lines.join('\n')}\n`);
}

/** A failure of a step, as the spec's error: resource conflicts are the plugin's code 102, the rest 999. */
function stepFailure(step: string, cause: unknown): CniError {
  if (cause instanceof CniError) return cause;
  return new CniError(cause instanceof UsageError ? ErrorCode.resourceInUse : ErrorCode.failure, `${step}: ${messageOf(cause)}`);
}

/**
 * ADD, in numbered steps: the record first, rewritten as each lease is taken and before each host object is
 * created; a failure undoes what was made (as DEL) and is reported.
 */
export async function add(network: CniNetwork, key: AttachmentKey, netns: string, requested: PortMapping[]): Promise<object> {
  const owner = ownerOf(network.name, key);
  const veth = hostVethOf(network.name, key);
  // 1. the bridge and the subnet, then the record, created exclusively: a second ADD for the same container and
  //    interface stops here
  checkBridge(network);
  checkSubnetFree(network);
  const record: AttachmentRecord = { network: network.name, ...key, veth, netns, address: null, ports: [] };
  if (!createRecord(record)) {
    throw new CniError(ErrorCode.alreadyAttached, `container ${key.containerId} already has interface ${key.ifname} on network ${network.name}`, 'DEL it first');
  }
  try {
    // 2. the address, then the host ports, each recorded as soon as held
    try {
      record.address = leasesOf(network).claim(owner, null);
    } catch (cause) {
      throw stepFailure(`lease an address in ${network.subnet.toString()}`, cause);
    }
    updateRecord(record);
    const registry = portRegistry();
    try {
      await checkHostPorts(requested, registry);
      record.ports = await registry.claim(owner, requested);
    } catch (cause) {
      throw stepFailure('claim host ports', cause);
    }
    updateRecord(record);
    const address = record.address;
    // 3. the bridge, forwarding, the network's table, and the published ports in minictr's maps
    try {
      if (!linkExists(network.bridge)) applyLinks(nativeAddon(), [bridgeOperation(network.bridge, network.subnet, network.gateway)]);
      ensureNoRouterAdvertisements(network.bridge);
      ensureForwarding();
      await ensureNetworkTable(asUserNetwork(network));
      await ensureRuleset(Subnet.parse(SUBNET_CIDR), BRIDGE, publishLines(record.ports, address));
    } catch (cause) {
      throw stepFailure(`set up bridge ${network.bridge}, its table and published ports`, cause);
    }
    // 4. the veth pair, its container end made in the namespace, and the filter on its host end
    const identity = { mac: macFor(parseIpv4(address)!), address: parseIpv4(address)! };
    try {
      // The container end is made inside the namespace the runtime named, through a descriptor of its file.
      const netnsFd = openSync(netns, 'r');
      try {
        const operation = vethOperation(veth, network.bridge, netns, identity.mac, key.ifname);
        applyLinks(nativeAddon(), [{ ...operation, peer: { ...operation.peer, netnsFd } }]);
      } finally {
        closeSync(netnsFd);
      }
      attachVethFilter(nativeAddon(), veth, identity);
      ensureRouteLocalnet(network.bridge);
    } catch (cause) {
      throw stepFailure(`create veth ${veth} on ${network.bridge} (${key.ifname} in ${netns})`, cause);
    }
    // 5. the address and default route inside
    try {
      await ipInside(netns, [
        `addr add ${address}/${network.subnet.prefixLength} dev ${key.ifname}`,
        `link set ${key.ifname} up`,
        `route add default via ${formatIpv4(network.gateway)} dev ${key.ifname}`,
      ]);
    } catch (cause) {
      throw stepFailure(`configure ${key.ifname} ${address} in ${netns}`, cause);
    }
    return addResult(network, key, netns, address, identity.mac, macFor(network.gateway), veth);
  } catch (cause) {
    // The ADD's own failure is the one reported; a failed undo is named in its details, for the runtime's DEL.
    try {
      await undo(network, record);
    } catch (undoFailure) {
      const failure = stepFailure('add', cause);
      throw new CniError(failure.code, failure.message, `undo failed too: ${messageOf(undoFailure)}`);
    }
    throw cause;
  }
}

/**
 * Takes away what `record` names, in the reverse order of ADD; gone already counts as done. Leases and host ports
 * go by owner, not by the record: an ADD killed between a claim and its record's rewrite leaves one it does not name.
 */
async function undo(network: CniNetwork, record: AttachmentRecord): Promise<void> {
  const owner = ownerOf(network.name, record);
  if (record.address !== null) await unpublish(record.ports, record.address);
  const held = (registry: { entries(): [string, string][]; release(key: string, owner: string): void }) => {
    for (const [key, holder] of registry.entries()) if (holder === owner) registry.release(key, owner);
  };
  held(portRegistry().files);
  await deleteVethIfPresent(record.veth);
  held(leasesOf(network).files);
  removeRecord(network.name, record);
}

/** DEL: succeeds when there is nothing (left) to delete, as the spec asks. */
export async function del(network: CniNetwork, key: AttachmentKey): Promise<void> {
  const record = readRecord(network.name, key);
  if (record === null) return;
  try {
    await undo(network, record);
  } catch (cause) {
    throw stepFailure(`delete interface ${key.ifname} of container ${key.containerId}`, cause);
  }
}

/** CHECK: the record, the host end on the bridge, and the container end with its address, are all there. */
export async function check(network: CniNetwork, key: AttachmentKey, netns: string): Promise<void> {
  const broken = (what: string) => new CniError(ErrorCode.attachmentBroken, `container ${key.containerId}, interface ${key.ifname}: ${what}`);
  const record = readRecord(network.name, key);
  if (record === null || record.address === null) throw broken(`not attached to network ${network.name}`);
  if (!linkExists(record.veth)) throw broken(`host end ${record.veth} is missing`);
  let listing: string;
  try {
    listing = (await runCommand(['nsenter', `--net=${netns}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', key.ifname])).stdout;
  } catch (cause) {
    throw broken(`${key.ifname} is missing in ${netns} (${messageOf(cause)})`);
  }
  if (!listing.includes(` ${record.address}/${network.subnet.prefixLength} `)) throw broken(`${key.ifname} lacks its address ${record.address}`);
}

/** GC (CNI 1.1): DEL of every attachment of this network that the runtime no longer names. */
export async function gc(network: CniNetwork, valid: AttachmentKey[]): Promise<void> {
  const keep = new Set(valid.map((key) => ownerOf(network.name, key)));
  for (const record of listRecords(network.name)) {
    if (!keep.has(ownerOf(network.name, record))) await del(network, record);
  }
}
