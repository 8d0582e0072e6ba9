// `network connect` and `network disconnect`: one more interface for a running container, on a user-defined
// network, and its removal. The same pieces as a run's attach (lease, DNS record, veth created inside the
// container's netns, veth filter, the network's bridge, table and resolver), for a container whose PID 1 already
// runs: so the new interface's address is set through `nsenter -n ip` (a short process of its own, since Node
// never enters a namespace), not by the child before exec.
//
// Each object is recorded in the container's journal before it exists, as a run records its own: the container's
// teardown (or gc's) undoes them with the rest. A disconnect undoes them at once and leaves the entries, whose undo
// then finds nothing (a lease held by nobody, a veth gone): the journal stays append-only while its owner runs.

import { stepError, UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import type { NativeAddon } from '../native/index.js';
import { runCommand } from '../sys/command.js';
import { ensureForwarding, ensureNoRouterAdvertisements } from './bridge.js';
import { writeEndpoint } from './dns/records.js';
import { ensureResolver } from './dns/resolver-process.js';
import { applyLinks } from './links.js';
import { connectedVethName, macFor } from './names.js';
import { ensureNetworkTable } from './network-firewall.js';
import { ensureNetworkBridge } from './network-host.js';
import { networkLeases, networkLeases6, networkStateDir, releaseNetworkLease, type UserNetwork } from './networks.js';
import { parseIpv4 } from './subnet.js';
import { parseIpv6 } from './subnet6.js';
import { attachVethFilter } from './veth-filter.js';
import { deleteVethIfPresent, vethOperation } from './veth.js';

/** A container as connect needs it: PID 1 (its netns), its names, and its journal. */
export interface Connectable {
  id: string;
  pid: number;
  names: string[];
  /** Records an entry before the object it names is created. */
  journal(entry: { kind: 'lease'; address: string; network: string } | { kind: 'veth'; name: string }): void;
  /** Interfaces it has already (eth0 and those of earlier connects): the new one is eth<count>. */
  interfaces: number;
}

export interface ConnectOptions {
  ip: string | null;
  aliases: string[];
}

/** Connects the container to `network`; returns its address and interface there. */
export async function connect(addon: NativeAddon, network: UserNetwork, container: Connectable, options: ConnectOptions): Promise<{ address: string; ifname: string }> {
  // 1. the address, checked as --ip is, leased and recorded, and the DNS record
  let requested: number | null = null;
  if (options.ip !== null) {
    requested = parseIpv4(options.ip);
    if (requested === null) throw new UsageError(`invalid --ip "${options.ip}": not an IPv4 address`);
    const reason = requested === network.parsedGateway ? 'is the gateway' : network.parsedSubnet.unusableReason(requested);
    if (reason !== null) throw new UsageError(`invalid --ip ${options.ip}: ${reason}`);
  }
  const address = networkLeases(network).claim(container.id, requested);
  container.journal({ kind: 'lease', address, network: network.name });
  // On a dual-stack network, the lowest free IPv6 address too.
  const leases6 = networkLeases6(network);
  const address6 = leases6 === null ? null : leases6.claim(container.id, null);
  const prefix6 = leases6?.subnet.prefixLength;
  if (address6 !== null) container.journal({ kind: 'lease', address: address6, network: network.name });
  writeEndpoint(networkStateDir(network), { id: container.id, address, ...(address6 !== null ? { address6 } : {}), names: [...container.names, ...options.aliases], dns: [] });
  // 2. the network's bridge, table and resolver, and forwarding
  ensureNetworkBridge(network);
  ensureNoRouterAdvertisements(network.bridge);
  ensureForwarding();
  if (address6 !== null) ensureForwarding('ipv6');
  await ensureNetworkTable(network);
  await ensureResolver(network);
  // 3. the veth, its container end created in the container's netns, and its filter
  const veth = connectedVethName(container.id, network.id);
  const ifname = `eth${container.interfaces}`;
  const identity = { mac: macFor(parseIpv4(address)!), address: parseIpv4(address)!, ...(address6 !== null ? { address6: parseIpv6(address6)! } : {}) };
  container.journal({ kind: 'veth', name: veth });
  try {
    // Its host end stays down until the filter holds: the container runs already, and with NET_ADMIN it could
    // bring its own end up and send before the filter is attached.
    applyLinks(addon, [{ ...vethOperation(veth, network.bridge, container.pid, identity.mac, ifname), down: true }]);
    attachVethFilter(addon, veth, identity);
    applyLinks(addon, [{ kind: 'up', name: veth }]);
  } catch (cause) {
    throw stepError('create veth', `${veth} on ${network.bridge} (${ifname} in the netns of pid ${container.pid})`, cause);
  }
  // 4. the address inside: the default route stays the first network's, as Docker's does. No router advertisement
  //    is learned on the new interface either (as on eth0: the child's); an IPv6 address goes without DAD.
  try {
    const netns = ['nsenter', '-t', String(container.pid), '-n'];
    const inside = [...netns, 'ip'];
    if (address6 !== null) await runCommand([...netns, 'sysctl', '-q', '-w', `net.ipv6.conf.${ifname}.accept_ra=0`, `net.ipv6.conf.${ifname}.autoconf=0`]);
    await runCommand([...inside, 'addr', 'add', `${address}/${network.parsedSubnet.prefixLength}`, 'dev', ifname]);
    if (address6 !== null) await runCommand([...inside, '-6', 'addr', 'add', `${address6}/${prefix6}`, 'dev', ifname, 'nodad']);
    await runCommand([...inside, 'link', 'set', ifname, 'up']);
  } catch (cause) {
    throw stepError('configure interface', `${ifname} ${address} in container ${shortId(container.id)}`, cause);
  }
  return { address, ifname };
}

/** Undoes connect: the veth (the kernel takes the container's end with it), the DNS record and the lease. */
export async function disconnect(network: UserNetwork, containerId: string, address: string): Promise<void> {
  deleteVethIfPresent(connectedVethName(containerId, network.id));
  releaseNetworkLease(network.name, containerId, address);
}
