// The network seam of a run: attach puts a container whose PID 1 waits in its new network namespace on the bridge,
// with its address, filter, NAT and published ports; detach is its exact inverse for one container;
// hostNetworkRemovals take away what every container shared (the bridge, the table, the forwarding setting), for
// `system reset` only.
//
// attach runs two chains side by side, since neither needs the other's objects (the rules name the bridge, not the
// veth), so the step costs the slower of the two:
//   links     rtnetlink requests (links.ts; no ip process): the bridge if missing, the veth pair with eth0 created
//             inside the child's netns and the host end on the bridge, then the eBPF veth filter (loopback guard,
//             anti-spoofing) on the host end's clsact ingress (veth-filter.ts)
//   firewall  ip_forward on, and one libnftables transaction adding the container's published ports (the base
//             rules re-applied with them only when missing or outdated, see firewall.ts)
// then the bridge's settings (route_localnet, which the loopback guard makes safe; no router advertisements learned).
// The kernel deletes the veth pair with the namespace, so a run never detaches its veth; gc does, for a namespace
// that outlived its container.

import { messageOf, stepError } from '../errors.js';
import { warn } from '../log.js';
import { nativeAddon, type NativeAddon } from '../native/index.js';
import { now } from '../startup.js';
import { ensureForwarding, ensureNoRouterAdvertisements, ensureRouteLocalnet, restoreForwarding } from './bridge.js';
import { deleteTable, ensureRuleset, isElementClash, unpublish } from './firewall.js';
import { linkExists } from './iproute.js';
import { applyLinks, type BridgeOperation, type VethOperation } from './links.js';
import { BRIDGE, SUBNET_CIDR } from './names.js';
import { ensureNetworkTable, publish6, unpublish6 } from './network-firewall.js';
import { networkIpv6, type UserNetwork } from './networks.js';
import type { PortMapping } from './ports.js';
import { Subnet } from './subnet.js';
import { attachVethFilter, type VethIdentity } from './veth-filter.js';
import { deleteVethIfPresent } from './veth.js';

/** The data of an attach, decided before it (container/plan.ts's hostNetwork). */
export interface NetworkPlan {
  subnet: Subnet;
  /** The bridge the container joins: minictr0, or its user-defined network's (whose table attach ensures too). */
  bridge: string;
  network: UserNetwork | null;
  /** The container's address, and its IPv6 address on a dual-stack network. */
  address: string;
  address6: string | null;
  /** Host end of the veth pair. */
  veth: string;
  /** The container's MAC and address on the bridge: all its veth's filter lets it send from. */
  identity: VethIdentity;
  /** The bridge, created when it is missing, and the veth pair. */
  bridgeLink: BridgeOperation;
  vethLink: VethOperation;
  /** The container's published ports, and their map elements. */
  ports: readonly PortMapping[];
  publishLines: string[];
}

/** What attach did, for --explain and --timings. */
export interface Attached {
  bridgeCreated: boolean;
  /** The netlink messages that created the links and attached the veth filter, described. */
  netlink: string[];
  /** The base ruleset was missing or outdated, and applied. */
  rulesetApplied: boolean;
  /** When the links chain ended (startup.ts's now()). */
  linksDone: number;
}

export interface AttachHooks {
  /** When a stale map element holds a published port (see container/gc.ts's removeStalePublished). */
  removeStalePublished(): Promise<void>;
  /**
   * The ends of the run's two steps that attach does (container/steps.ts), where the crash tests crash: `veth` once
   * both chains have settled (no nft call left in flight), `nat` once the bridge's settings are made too.
   */
  checkpoint(step: 'veth' | 'nat'): void;
}

/** Attaches the container whose PID 1 is `pid`, as planned. Failures name the step and the object. */
export async function attach(addon: NativeAddon, plan: NetworkPlan, pid: number, hooks: AttachHooks): Promise<Attached> {
  const { veth, bridge } = plan;
  const bridgeCreated = !linkExists(bridge);
  const natFailed = (cause: unknown) => stepError('set up NAT and published ports', `for ${plan.address}`, cause);
  let linksDone = 0;
  const netlink: string[] = [];
  // The firewall chain starts first: its libnftables transaction then runs while the links chain makes its
  // (synchronous) netlink requests. The main table always holds the default network's base (and every network's
  // published ports). A user-defined network's table is checked only when its bridge or the main base had to be
  // made again (a reboot, a reset, a flushed ruleset): a run on it costs no more than one on the default network.
  const base = Subnet.parse(SUBNET_CIDR);
  const firewall = (async () => {
    try {
      ensureForwarding();
      if (networkIpv6(plan.network) !== null) ensureForwarding('ipv6');
      let applied: boolean;
      try {
        applied = await ensureRuleset(base, BRIDGE, plan.publishLines);
      } catch (cause) {
        // "File exists": a stale element holds one of these ports. This run holds the port now, so the element is
        // nobody's: remove it and publish once more.
        if (!isElementClash(cause)) throw cause;
        await hooks.removeStalePublished();
        applied = await ensureRuleset(base, BRIDGE, plan.publishLines);
      }
      // -p on a dual-stack network publishes over IPv6 too, in the network's ip6 table, which must then be current.
      const { network, address6, ports } = plan;
      const publishes6 = address6 !== null && ports.length > 0;
      if (network !== null && (applied || bridgeCreated || publishes6)) applied = (await ensureNetworkTable(network)) || applied;
      if (publishes6) publish6(plan.bridge, ports, address6);
      return applied;
    } catch (cause) {
      throw natFailed(cause);
    }
  })();
  const links = (async () => {
    try {
      for (const applied of applyLinks(addon, [...(bridgeCreated ? [plan.bridgeLink] : []), plan.vethLink])) netlink.push(...applied.messages);
    } catch (cause) {
      throw stepError('create veth', `${veth} on ${bridge} (eth0 in the netns of pid ${pid})`, cause);
    }
    try {
      netlink.push(...attachVethFilter(addon, veth, plan.identity));
    } catch (cause) {
      throw stepError('attach the veth filter (loopback guard, anti-spoofing)', `to ${veth}`, cause);
    }
    linksDone = now();
  })();
  const [linksResult, firewallResult] = await Promise.allSettled([links, firewall]);
  if (linksResult.status === 'rejected') {
    if (firewallResult.status === 'rejected') warn(messageOf(firewallResult.reason));
    throw linksResult.reason;
  }
  hooks.checkpoint('veth');
  if (firewallResult.status === 'rejected') throw firewallResult.reason;
  // Settings of the bridge, which the links chain may have just created, before any container is released:
  // route_localnet, now that the loopback guard holds; no router advertisements learned.
  try {
    ensureRouteLocalnet(bridge);
    ensureNoRouterAdvertisements(bridge);
  } catch (cause) {
    throw natFailed(cause);
  }
  hooks.checkpoint('nat');
  return { bridgeCreated, netlink, rulesetApplied: firewallResult.value, linksDone };
}

/**
 * The inverse of attach for one container, each part as its journal names it: its published map elements, and
 * the host end of its veth (when the kernel has not deleted it with the namespace). Gone already counts as done.
 */
export async function detach(
  part: { published: { address: string; mappings: readonly PortMapping[]; ipv6?: { bridge: string; address: string } } } | { veth: string },
): Promise<void> {
  if ('veth' in part) deleteVethIfPresent(part.veth);
  else {
    const { address, mappings, ipv6 } = part.published;
    await unpublish(mappings, address);
    if (ipv6 !== undefined) unpublish6(ipv6.bridge, mappings, ipv6.address);
  }
}

/** What attach shares between containers, each with its removal: `system reset` takes them away once none runs. */
export function hostNetworkRemovals(): { what: string; remove: () => unknown }[] {
  return [
    { what: 'delete nftables table', remove: deleteTable },
    {
      what: `delete bridge ${BRIDGE}`,
      remove: () => {
        if (linkExists(BRIDGE)) applyLinks(nativeAddon(), [{ kind: 'delete', name: BRIDGE }]);
      },
    },
    { what: 'restore net.ipv4.ip_forward', remove: () => restoreForwarding('ipv4') },
    { what: 'restore net.ipv6.conf.all.forwarding', remove: () => restoreForwarding('ipv6') },
  ];
}
