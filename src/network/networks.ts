// User-defined networks (`minictr network create`), as Docker's bridge networks: each has its own bridge, subnet,
// gateway, leases, nftables table (network-firewall.ts) and DNS resolver (dns/). The default network, `bridge`
// (minictr0, 10.0.0.0/24), is not one of them: it needs no definition and keeps its own code paths.
//
// A definition is a JSON file under /var/lib/minictr/networks, so networks outlive reboots as Docker's do; what a
// reboot clears (the bridge, the table, the resolver, leases and DNS records under /run/minictr/networks/NAME) is
// made again by the next container that joins (attach.ts and the resolver's start in the run, connect.ts).
// Creation and removal take turns on the data root (an flock), so two creations never choose overlapping subnets.

import { closeSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError, stepError, UsageError } from '../errors.js';
import { newId } from '../ids.js';
import { nativeAddon } from '../native/index.js';
import { PATHS } from '../paths.js';
import { Registry } from '../sys/exclusive-file.js';
import { writeFileNamed } from '../sys/reserved-space.js';
import { readEndpoints, removeEndpoint } from './dns/records.js';
import { Ipam } from './ipam.js';
import { Ipam6 } from './ipam6.js';
import { isNetworkBridge, networkBridgeName, BRIDGE, SUBNET_CIDR } from './names.js';
import { formatIpv4, parseIpv4, Subnet } from './subnet.js';
import { formatIpv6, parseIpv6, Subnet6 } from './subnet6.js';

/** A definition as stored. */
export interface NetworkDefinition {
  name: string;
  id: string;
  bridge: string;
  subnet: string;
  gateway: string;
  /** A dual-stack network's (--ipv6) IPv6 subnet and the bridge's address in it; absent: IPv4 only. */
  subnet6?: string;
  gateway6?: string;
  /** No route out: nothing forwarded to or from other interfaces, no masquerade. */
  internal: boolean;
  createdAt: string;
}

/** A definition with its addresses parsed: what a run, a connect and the firewall use. */
export interface UserNetwork extends NetworkDefinition {
  parsedSubnet: Subnet;
  parsedGateway: number;
  parsedSubnet6: Subnet6 | null;
  parsedGateway6: bigint | null;
}

/** Names `--network` takes without a definition. */
export const BUILTIN_NETWORKS = ['bridge', 'host', 'none'] as const;

/** Docker's rule for network names; the name is also a file name here, hence the length. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

/** Where subnets are chosen when --subnet is not given: 10.89.N.0/24, as Podman does. */
const POOL_BASE = parseIpv4('10.89.0.0')!;
const POOL_SIZE = 256;
/**
 * Where IPv6 subnets are chosen when --ipv6 comes without one: fd89:0:0:N::/64, unique local addresses. A number,
 * not parsed: every run loads this module, and on the default network this was its only IPv6 parse (its first call).
 */
const POOL6_BASE = 0xfd89n << 112n; // fd89::

export interface CreateFlags {
  /** One per family (Docker's flags): an IPv4 subnet, and an IPv6 one with --ipv6. */
  subnet?: string | string[];
  ipv6?: boolean;
  gateway?: string;
  internal?: boolean;
}

/** A route of the host: a subnet the host reaches by some interface. */
export interface HostRoute {
  subnet: Subnet;
  device: string;
}

export interface HostRoute6 {
  subnet: Subnet6;
  device: string;
}

export function checkNetworkName(name: string, command: string): string {
  if (!NAME.test(name)) throw new UsageError(`${command}: invalid network name "${name}": [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 64 characters`);
  return name;
}

function overlaps(a: Subnet, b: Subnet): boolean {
  return a.contains(b.network) || b.contains(a.network);
}

/**
 * The definition `network create` would store, pure: the subnet given or the first free one of the pool, checked
 * against the default network, every other network and the host's routes (a subnet the host already reaches
 * elsewhere would take those hosts away from it). With --ipv6, an IPv6 subnet too (planSubnet6).
 */
export function planNetwork(
  name: string,
  createFlags: CreateFlags,
  context: { existing: readonly NetworkDefinition[]; routes: readonly HostRoute[]; routes6?: readonly HostRoute6[]; id: string; now: string },
): NetworkDefinition {
  checkNetworkName(name, 'network create');
  const given = createFlags.subnet === undefined ? [] : [createFlags.subnet].flat();
  const v4 = given.filter((subnet) => !subnet.includes(':'));
  const v6 = given.filter((subnet) => subnet.includes(':'));
  if (v4.length > 1 || v6.length > 1) throw new UsageError('invalid --subnet: at most one IPv4 and one IPv6 subnet');
  if (v6.length > 0 && !createFlags.ipv6) throw new UsageError(`invalid --subnet ${v6[0]}: an IPv6 subnet needs --ipv6`);
  const flags = { ...createFlags, subnet: v4[0] };
  if ((BUILTIN_NETWORKS as readonly string[]).includes(name)) throw new UsageError(`network create: "${name}" is a built-in network`);
  if (context.existing.some((network) => network.name === name)) throw new UsageError(`network create: network ${name} already exists`);
  const taken: { subnet: Subnet; what: string }[] = [
    { subnet: Subnet.parse(SUBNET_CIDR), what: `the default network bridge (${BRIDGE})` },
    ...context.existing.map((network) => ({ subnet: Subnet.parse(network.subnet), what: `network ${network.name}` })),
    ...context.routes.map((route) => ({ subnet: route.subnet, what: `a route of the host via ${route.device}` })),
  ];
  const conflict = (subnet: Subnet) => taken.find((other) => overlaps(subnet, other.subnet));
  let subnet: Subnet;
  if (flags.subnet !== undefined) {
    try {
      subnet = Subnet.parse(flags.subnet);
    } catch (cause) {
      throw new UsageError(`invalid --subnet: ${(cause as Error).message}`);
    }
    const other = conflict(subnet);
    if (other !== undefined) throw new UsageError(`invalid --subnet ${flags.subnet}: overlaps ${other.subnet.toString()} of ${other.what}`);
  } else {
    if (flags.gateway !== undefined) throw new UsageError('--gateway needs --subnet');
    const free = Array.from({ length: POOL_SIZE }, (_, n) => Subnet.parse(`${formatIpv4(POOL_BASE + n * 256)}/24`)).find((candidate) => conflict(candidate) === undefined);
    if (free === undefined) throw new UsageError('network create: no free subnet left in 10.89.0.0/16: give one with --subnet');
    subnet = free;
  }
  let gateway = subnet.gateway;
  if (flags.gateway !== undefined) {
    const parsed = parseIpv4(flags.gateway);
    if (parsed === null) throw new UsageError(`invalid --gateway "${flags.gateway}": not an IPv4 address`);
    if (!subnet.contains(parsed) || parsed === subnet.network || parsed === subnet.broadcast) {
      throw new UsageError(`invalid --gateway ${flags.gateway}: not a host address of ${subnet.toString()}`);
    }
    gateway = parsed;
  }
  const subnet6 = flags.ipv6 ? planSubnet6(v6[0], context.existing, context.routes6 ?? []) : null;
  return {
    name,
    id: context.id,
    bridge: networkBridgeName(context.id),
    subnet: subnet.toString(),
    gateway: formatIpv4(gateway),
    ...(subnet6 !== null ? { subnet6: subnet6.toString(), gateway6: formatIpv6(subnet6.gateway) } : {}),
    internal: flags.internal ?? false,
    createdAt: context.now,
  };
}

/**
 * A dual-stack network's IPv6 subnet: the one given, or the first free /64 of fd89::/48; never a reserved range,
 * another network's or one the host routes elsewhere.
 */
function planSubnet6(given: string | undefined, existing: readonly NetworkDefinition[], routes: readonly HostRoute6[]): Subnet6 {
  const taken = [
    ...existing.flatMap((network) => (network.subnet6 === undefined ? [] : [{ subnet: Subnet6.parse(network.subnet6), what: `network ${network.name}` }])),
    ...routes.map((route) => ({ subnet: route.subnet, what: `a route of the host via ${route.device}` })),
  ];
  const conflict = (subnet: Subnet6) => taken.find((other) => subnet.overlaps(other.subnet));
  if (given === undefined) {
    const free = Array.from({ length: POOL_SIZE }, (_, n) => Subnet6.parse(`${formatIpv6(POOL6_BASE + (BigInt(n) << 64n))}/64`)).find((candidate) => conflict(candidate) === undefined);
    if (free === undefined) throw new UsageError('network create: no free IPv6 subnet left in fd89::/48: give one with --subnet');
    return free;
  }
  let subnet: Subnet6;
  try {
    subnet = Subnet6.parse(given);
  } catch (cause) {
    throw new UsageError(`invalid --subnet: ${(cause as Error).message}`);
  }
  const reserved = subnet.reservedReason();
  if (reserved !== null) throw new UsageError(`invalid --subnet ${given}: ${reserved}`);
  const other = conflict(subnet);
  if (other !== undefined) throw new UsageError(`invalid --subnet ${given}: overlaps ${other.subnet.toString()} of ${other.what}`);
  return subnet;
}

/**
 * The host's IPv6 routes to networks, from /proc/net/ipv6_route: not the default route, not the host's own
 * addresses (/128), not link-local or multicast, not minictr's own bridges'.
 */
export function hostRoutes6(table = readIfExists('/proc/net/ipv6_route')): HostRoute6[] {
  // destination(32 hex) prefix(hex) source(32 hex) prefix next-hop metric refcnt use flags device
  const special = [Subnet6.parse('fe80::/10'), Subnet6.parse('ff00::/8')];
  return table.split('\n').flatMap((line) => {
    const fields = line.trim().split(/\s+/);
    const [destination, prefixHex] = fields;
    const device = fields[9];
    if (destination === undefined || prefixHex === undefined || device === undefined || device === 'lo' || device === BRIDGE || isNetworkBridge(device)) return [];
    const prefixLength = parseInt(prefixHex, 16);
    if (prefixLength === 0 || prefixLength > 120) return [];
    const subnet = Subnet6.parse(`${formatIpv6(BigInt(`0x${destination}`))}/${prefixLength}`);
    return special.some((range) => range.overlaps(subnet)) ? [] : [{ subnet, device }];
  });
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // IPv6 disabled on this kernel
  }
}

/** The host's IPv4 routes but the default route and minictr's own bridges', from /proc/net/route. */
export function hostRoutes(table = readFileSync('/proc/net/route', 'utf8')): HostRoute[] {
  // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses are hex in host (little-endian) order.
  const fromHex = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
  return table
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const [device, destination, , , , , , mask] = line.trim().split(/\s+/);
      if (device === undefined || destination === undefined || mask === undefined || device === BRIDGE || isNetworkBridge(device)) return [];
      const prefixLength = fromHex(mask).toString(2).replace(/0/g, '').length;
      if (prefixLength === 0 || prefixLength > 30) return [];
      return [{ subnet: Subnet.parse(`${formatIpv4(fromHex(destination))}/${prefixLength}`), device }];
    });
}

function definitionPath(name: string): string {
  return join(PATHS.networks, `${name}.json`);
}

function parsed(definition: NetworkDefinition): UserNetwork {
  return {
    ...definition,
    parsedSubnet: Subnet.parse(definition.subnet),
    parsedGateway: parseIpv4(definition.gateway)!,
    parsedSubnet6: definition.subnet6 === undefined ? null : Subnet6.parse(definition.subnet6),
    parsedGateway6: definition.gateway6 === undefined ? null : parseIpv6(definition.gateway6),
  };
}

/** The network named `name`, or null. */
export function readNetwork(name: string): UserNetwork | null {
  let text: string;
  try {
    text = readFileSync(definitionPath(name), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw stepError('read network definition', definitionPath(name), cause);
  }
  return parsed(JSON.parse(text) as NetworkDefinition);
}

export function existingNetwork(name: string): UserNetwork {
  const network = readNetwork(checkNetworkName(name, 'network'));
  if (network === null) throw new MinictrError(`no such network: ${name}`, 'lookup');
  return network;
}

export function listNetworks(): UserNetwork[] {
  let names: string[];
  try {
    names = readdirSync(PATHS.networks).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
  return names.flatMap((file) => {
    const network = readNetwork(file.slice(0, -'.json'.length));
    return network === null ? [] : [network];
  });
}

/**
 * Runs `action` while no other process creates or removes a network. The lock is the data root's (not the
 * definitions' directory, which goes with the last network).
 */
export function withNetworkLock<T>(action: () => T): T {
  mkdirSync(PATHS.data, { recursive: true, mode: 0o700 });
  const lock = nativeAddon().lockDirectory(PATHS.data);
  try {
    return action();
  } finally {
    closeSync(lock);
  }
}

/**
 * Stores a new definition and returns it. Checked once before the lock, so bad input creates nothing, not even a
 * directory; then again under it, against the networks created meanwhile.
 */
export function createNetwork(name: string, flags: CreateFlags): UserNetwork {
  const plan = () => planNetwork(name, flags, { existing: listNetworks(), routes: hostRoutes(), routes6: hostRoutes6(), id: newId(), now: new Date().toISOString() });
  plan();
  return withNetworkLock(() => {
    const definition = plan();
    mkdirSync(PATHS.networks, { recursive: true, mode: 0o700 });
    writeFileNamed(definitionPath(name), `${JSON.stringify(definition, null, 2)}\n`);
    return parsed(definition);
  });
}

/** Running state of a network: leases, DNS records, the resolver's pid. */
export function networkStateDir(network: NetworkDefinition): string {
  return join(PATHS.networkState, network.name);
}

/** The network's address leases; its gateway is never leased. */
export function networkLeases(network: UserNetwork): Ipam {
  return new Ipam(join(networkStateDir(network), 'leases'), network.parsedSubnet, [network.parsedGateway]);
}

/** A dual-stack network's IPv6 subnet and gateway; null for an IPv4-only network. */
export function networkIpv6(network: UserNetwork | null): { subnet: Subnet6; gateway: bigint } | null {
  if (network === null || network.parsedSubnet6 === null || network.parsedGateway6 === null) return null;
  return { subnet: network.parsedSubnet6, gateway: network.parsedGateway6 };
}

/** A dual-stack network's IPv6 leases, beside the IPv4 ones; null for an IPv4-only network. */
export function networkLeases6(network: UserNetwork): Ipam6 | null {
  const ipv6 = networkIpv6(network);
  return ipv6 === null ? null : new Ipam6(leasesDir6(network.name), ipv6.subnet, ipv6.gateway);
}

/** Removes the definition and the running state (the caller has taken the host objects away). */
export function forgetNetwork(network: NetworkDefinition): void {
  rmSync(networkStateDir(network), { recursive: true, force: true });
  rmSync(definitionPath(network.name), { force: true });
  // The directories go with the last network, as they came with the first.
  for (const dir of [PATHS.networkState, PATHS.networks]) {
    try {
      rmdirSync(dir);
    } catch {
      // another network's, or gone
    }
  }
}

/** Whether the definition still exists: a run that leased an address checks it, against a concurrent `network rm`. */
export function networkExists(network: NetworkDefinition): boolean {
  return existsSync(definitionPath(network.name));
}

function leasesDir(networkName: string): string {
  return join(PATHS.networkState, networkName, 'leases');
}

function leasesDir6(networkName: string): string {
  return join(PATHS.networkState, networkName, 'leases6');
}

/**
 * The undo of a lease on a user-defined network: the container's DNS record, then its address. Needs only the
 * name, so it works after a reset took the state away (then nothing is left to undo).
 */
export function releaseNetworkLease(networkName: string, owner: string, address: string): void {
  removeEndpoint(join(PATHS.networkState, networkName), owner);
  new Registry(address.includes(':') ? leasesDir6(networkName) : leasesDir(networkName)).release(address, owner);
}

/** Containers holding an address on the network, by id. */
export function networkUsers(network: NetworkDefinition): string[] {
  return [...new Set(new Registry(leasesDir(network.name)).entries().map(([, owner]) => owner))];
}

/** gc: leases and DNS records of every network whose container `gone` says is gone. */
export function sweepNetworks(gone: (owner: string) => boolean): void {
  let names: string[];
  try {
    names = readdirSync(PATHS.networkState);
  } catch {
    return;
  }
  for (const name of names) {
    new Registry(leasesDir(name)).sweep(gone);
    new Registry(leasesDir6(name)).sweep(gone);
    const dir = join(PATHS.networkState, name);
    for (const endpoint of readEndpoints(dir)) if (gone(endpoint.id)) removeEndpoint(dir, endpoint.id);
  }
}
