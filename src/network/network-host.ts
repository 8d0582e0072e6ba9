// The host objects of a user-defined network: its bridge (with the gateway address), its nftables table
// (network-firewall.ts) and its resolver (dns/). `network create` makes them, a run on the network makes sure they
// exist (after a reboot, or a reset, they do not), and `network rm`, `system reset` take them away. Each removal
// treats "gone already" as done.

import { readdirSync, rmSync } from 'node:fs';
import { PATHS } from '../paths.js';
import { nativeAddon } from '../native/index.js';
import { bridgeOperation, ensureNoRouterAdvertisements } from './bridge.js';
import { ensureResolver, stopResolver } from './dns/resolver-process.js';
import { linkExists } from './iproute.js';
import { applyLinks } from './links.js';
import { isNetworkBridge } from './names.js';
import { deleteNetworkTable, ensureNetworkTable, listNetworkTables } from './network-firewall.js';
import { forgetNetwork, listNetworks, networkIpv6, type UserNetwork } from './networks.js';

/** Bridge, table, resolver: each made if missing. */
export async function ensureNetworkHost(network: UserNetwork): Promise<void> {
  ensureNetworkBridge(network);
  ensureNoRouterAdvertisements(network.bridge);
  await ensureNetworkTable(network);
  await ensureResolver(network);
}

/** The network's bridge with its gateway address, if missing (a concurrent run making it meanwhile is success). */
export function ensureNetworkBridge(network: UserNetwork): void {
  if (!linkExists(network.bridge)) applyLinks(nativeAddon(), [bridgeOperation(network.bridge, network.parsedSubnet, network.parsedGateway, networkIpv6(network))]);
}

/** Deletes a link by name; gone already counts as deleted. */
function deleteLink(name: string): void {
  if (linkExists(name)) applyLinks(nativeAddon(), [{ kind: 'delete', name }]);
}

/** Each removal with what it removes, in order: the resolver first (it listens on the bridge's address). */
export function networkHostRemovals(network: UserNetwork): { what: string; remove: () => Promise<void> }[] {
  return [
    { what: `stop the DNS resolver of network ${network.name}`, remove: () => stopResolver(network) },
    { what: `delete nftables table of network ${network.name}`, remove: () => deleteNetworkTable(network.bridge) },
    {
      what: `delete bridge ${network.bridge}`,
      remove: async () => deleteLink(network.bridge),
    },
  ];
}

export async function removeNetworkHost(network: UserNetwork): Promise<void> {
  for (const { remove } of networkHostRemovals(network)) await remove();
}

/**
 * `system reset`: every network's host objects and definition, then tables and bridges named as a network's whose
 * definition is gone (a definitions directory removed by hand).
 */
export function allNetworksRemovals(): { what: string; remove: () => Promise<void> }[] {
  const networks = listNetworks();
  const known = new Set(networks.map((network) => network.bridge));
  return [
    ...networks.flatMap((network) => [...networkHostRemovals(network), { what: `remove network ${network.name}`, remove: async () => forgetNetwork(network) }]),
    {
      what: 'delete the tables and bridges of networks no definition names',
      remove: async () => {
        for (const bridge of await listNetworkTables()) if (!known.has(bridge)) await deleteNetworkTable(bridge);
        for (const link of readdirSync('/proc/sys/net/ipv4/conf')) {
          if (isNetworkBridge(link) && !known.has(link)) deleteLink(link);
        }
        rmSync(PATHS.networks, { recursive: true, force: true });
      },
    },
  ];
}
