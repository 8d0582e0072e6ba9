// What `minictr net` shows: the host side of minictr's network as the kernel reports it (the bridge and the host
// end of every veth on it), each container as its journal records it (address, veth, pid, published ports) and as
// its own network namespace reports it (interfaces with their peer links, routes), and minictr's nftables table.
// Everything is read, nothing is changed; containers are entered with nsenter, never with setns() in Node.

import { runCommand } from '../sys/command.js';
import { isAlive, type ProcessRef } from '../sys/proc.js';
import { BRIDGE, NFT_FAMILY, NFT_TABLE } from './names.js';
import { linkExists } from './iproute.js';
import type { PortMapping } from './ports.js';

export interface LinkView {
  name: string;
  ifindex: number;
  /** ifindex of the other end of a veth, in the other namespace. */
  peerIfindex: number | null;
  mac: string;
  state: string;
  addresses: string[];
  hairpin?: boolean;
}

export interface ContainerView {
  id: string;
  name: string | null;
  pid: number | null;
  address: string | null;
  hostVeth: LinkView | null;
  links: LinkView[];
  routes: string[];
  ports: PortMapping[];
}

/** A container as its journal records it: what the view needs of container/lookup.ts's ContainerInfo. */
export interface AttachedContainer {
  id: string;
  name: string | null;
  /** PID 1, once it exists. */
  process: ProcessRef | null;
  address: string | null;
  /** Host end of its veth pair. */
  veth: string | null;
  ports: PortMapping[];
}

/** A way out of the host: the interface of a default route. */
export interface UplinkView {
  name: string;
  gateway: string | null;
  addresses: string[];
}

export interface NetworkView {
  bridge: LinkView | null;
  /** The host's default routes' interfaces, where masqueraded container traffic leaves. */
  uplinks: UplinkView[];
  containers: ContainerView[];
  /** `nft list table` output, or null when the table does not exist. */
  ruleset: string | null;
}

type IpLink = {
  ifname: string;
  ifindex: number;
  link_index?: number;
  address?: string;
  operstate?: string;
  addr_info?: { local: string; prefixlen: number }[];
  linkinfo?: { info_slave_data?: { hairpin?: boolean } };
};
type IpRoute = { dst: string; gateway?: string; dev?: string; prefsrc?: string };

async function ipJson<T>(argv: string[]): Promise<T[]> {
  return JSON.parse((await runCommand(argv)).stdout || '[]') as T[];
}

function toLinkView(link: IpLink, addresses: Map<string, string[]>): LinkView {
  return {
    name: link.ifname,
    ifindex: link.ifindex,
    peerIfindex: link.link_index ?? null,
    mac: link.address ?? '',
    state: link.operstate ?? 'UNKNOWN',
    addresses: addresses.get(link.ifname) ?? [],
    ...(link.linkinfo?.info_slave_data?.hairpin === undefined ? {} : { hairpin: link.linkinfo.info_slave_data.hairpin }),
  };
}

async function linksOf(prefix: string[]): Promise<LinkView[]> {
  const links = await ipJson<IpLink>([...prefix, 'ip', '-j', '-d', 'link', 'show']);
  const withAddresses = await ipJson<IpLink>([...prefix, 'ip', '-j', '-4', 'addr', 'show']);
  const addresses = new Map(withAddresses.map((l) => [l.ifname, (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`)]));
  return links.map((link) => toLinkView(link, addresses));
}

async function containerView(container: AttachedContainer, hostLinks: LinkView[]): Promise<ContainerView> {
  const pid = container.process !== null && isAlive(container.process) ? container.process.pid : null;
  const inside = ['nsenter', '-t', String(pid), '-n', '--'];
  const routes = pid === null ? [] : await ipJson<IpRoute>([...inside, 'ip', '-j', 'route', 'show']);
  return {
    id: container.id,
    name: container.name,
    pid,
    address: container.address,
    hostVeth: hostLinks.find((l) => l.name === container.veth) ?? null,
    links: pid === null ? [] : await linksOf(inside),
    routes: routes.map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}`),
    ports: container.ports,
  };
}

/** The view of the network of `containers` (the running ones). */
export async function collectNetworkView(running: readonly AttachedContainer[]): Promise<NetworkView> {
  const hostLinks = linkExists(BRIDGE) ? await linksOf([]) : [];
  const containers: ContainerView[] = [];
  for (const container of running) {
    try {
      containers.push(await containerView(container, hostLinks));
    } catch {
      // it ended while we looked: the listing is of running containers
    }
  }
  let ruleset: string | null = null;
  try {
    ruleset = (await runCommand(['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE])).stdout;
  } catch {
    ruleset = null;
  }
  const defaults = hostLinks.length === 0 ? [] : await ipJson<IpRoute>(['ip', '-j', '-4', 'route', 'show', 'default']);
  const uplinks = defaults.flatMap((route) =>
    route.dev === undefined ? [] : [{ name: route.dev, gateway: route.gateway ?? null, addresses: hostLinks.find((l) => l.name === route.dev)?.addresses ?? [] }],
  );
  return { bridge: hostLinks.find((l) => l.name === BRIDGE) ?? null, uplinks, containers, ruleset };
}
