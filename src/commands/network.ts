// `minictr network create|ls|inspect|rm|prune|connect|disconnect`: user-defined networks (network/networks.ts) as
// Docker's CLI shows them. The definitions change only under the networks' lock; a network is in use while a container holds an
// address on it.

import { readFileSync } from 'node:fs';
import { AggregateFailure, MinictrError, messageOf, UsageError } from '../errors.js';
import { table } from '../format.js';
import { shortId } from '../ids.js';
import { claimRecovering } from '../container/gc.js';
import { currentContainers, isRunning, resolveContainer } from '../container/lookup.js';
import { ContainerState } from '../container/state.js';
import { readEndpoints } from '../network/dns/records.js';
import { runningResolver } from '../network/dns/resolver-process.js';
import { ensureNetworkHost, removeNetworkHost } from '../network/network-host.js';
import {
  BUILTIN_NETWORKS,
  checkNetworkName,
  createNetwork,
  existingNetwork,
  forgetNetwork,
  listNetworks,
  networkLeases,
  networkLeases6,
  networkStateDir,
  networkUsers,
  readNetwork,
  withNetworkLock,
  type CreateFlags,
  type UserNetwork,
} from '../network/networks.js';

export async function create(name: string, flags: CreateFlags): Promise<number> {
  const network = createNetwork(name, flags);
  try {
    await ensureNetworkHost(network);
  } catch (cause) {
    // Nothing half-made stays: the host objects and the definition go again.
    await removeNetworkHost(network).catch(() => {});
    withNetworkLock(() => forgetNetwork(network));
    throw new MinictrError(`network create ${name}: ${messageOf(cause)}`, 'failure', cause);
  }
  process.stdout.write(`${network.id}\n`);
  return 0;
}

export async function ls(flags: { quiet?: boolean }): Promise<number> {
  const networks = listNetworks().sort((a, b) => a.name.localeCompare(b.name));
  if (flags.quiet) {
    process.stdout.write(networks.map((network) => `${shortId(network.id)}\n`).join(''));
    return 0;
  }
  const builtins = BUILTIN_NETWORKS.map((name) => ['-', name, name === 'none' ? 'null' : name, 'local', name === 'bridge' ? '10.0.0.0/24' : '']);
  const rows = networks.map((network) => [shortId(network.id), network.name, 'bridge', 'local', `${network.subnet}${network.subnet6 !== undefined ? `, ${network.subnet6}` : ''}${network.internal ? ' (internal)' : ''}`]);
  process.stdout.write(table([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE', 'SUBNET'], ...builtins, ...rows]));
  return 0;
}

/**
 * A process's memory in KiB, from /proc: resident (Rss), and its proportional share (Pss), which counts pages
 * shared with other processes (Node's own code, mostly) in part: what the process really adds.
 */
function memoryKiB(pid: number): { RssKiB: number; PssKiB: number } | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(rollup)?.[1] ?? NaN);
    return { RssKiB: field('Rss'), PssKiB: field('Pss') };
  } catch {
    return null;
  }
}

/** Docker's fields, plus the resolver's process and memory. */
function inspectOne(network: UserNetwork) {
  const resolver = runningResolver(network);
  return {
    Name: network.name,
    Id: network.id,
    Created: network.createdAt,
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: network.subnet6 !== undefined,
    IPAM: {
      Driver: 'default',
      Config: [{ Subnet: network.subnet, Gateway: network.gateway }, ...(network.subnet6 !== undefined ? [{ Subnet: network.subnet6, Gateway: network.gateway6 }] : [])],
    },
    Internal: network.internal,
    Containers: Object.fromEntries(
      readEndpoints(networkStateDir(network)).map((endpoint) => [endpoint.id, {
        Names: endpoint.names,
        IPv4Address: `${endpoint.address}/${network.parsedSubnet.prefixLength}`,
        IPv6Address: endpoint.address6 === undefined ? '' : `${endpoint.address6}/${network.parsedSubnet6?.prefixLength}`,
      }]),
    ),
    Options: { 'com.docker.network.bridge.name': network.bridge },
    Resolver: resolver === null ? null : { Address: `${network.gateway}:53`, Pid: resolver.pid, ...memoryKiB(resolver.pid) },
  };
}

export async function inspect(names: string[]): Promise<number> {
  const shown = names.map((name) => inspectOne(existingNetwork(name)));
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  return 0;
}

function assertUnused(network: UserNetwork): void {
  const users = networkUsers(network);
  if (users.length > 0) throw new UsageError(`network ${network.name} is in use by container ${users.map(shortId).join(', ')}`);
}

/** Removes one network, whose definition goes last: should a removal fail, `network rm` can be run again. */
async function removeOne(network: UserNetwork): Promise<void> {
  await removeNetworkHost(network);
  withNetworkLock(() => forgetNetwork(network));
}

/**
 * Every name is checked before any network is removed: a typo or a network in use removes nothing. In use by a
 * container whose minictr died: the check is made again after the gc that releases its address.
 */
export async function rm(names: string[], flags: { force?: boolean }): Promise<number> {
  const networks = await claimRecovering(() => withNetworkLock(() =>
    names.flatMap((name) => {
      if ((BUILTIN_NETWORKS as readonly string[]).includes(name)) throw new UsageError(`network rm: ${name} is a built-in network`);
      const network = readNetwork(checkNetworkName(name, 'network rm'));
      if (network === null) {
        if (flags.force) return [];
        throw new MinictrError(`no such network: ${name}`, 'lookup');
      }
      assertUnused(network);
      return [network];
    }),
  ));
  const errors: Error[] = [];
  for (const network of networks) {
    try {
      await removeOne(network);
      process.stdout.write(`${network.name}\n`);
    } catch (cause) {
      errors.push(new Error(`network rm ${network.name}: ${messageOf(cause)}`, { cause }));
    }
  }
  if (errors.length > 0) throw new AggregateFailure('network rm', errors);
  return 0;
}

export async function prune(): Promise<number> {
  const unused = withNetworkLock(() => listNetworks().filter((network) => networkUsers(network).length === 0));
  for (const network of unused) {
    await removeOne(network);
    process.stdout.write(`${network.name}\n`);
  }
  return 0;
}

/** A running container, with its state: connect and disconnect work on its journal. */
async function runningContainer(ref: string, verb: string) {
  const container = resolveContainer(ref, await currentContainers());
  if (!isRunning(container) || container.process === null) throw new UsageError(`network ${verb}: container ${ref} is not running`);
  const state = new ContainerState(container.id, container.dir);
  return { container, state, pid: container.process.pid, record: state.record() };
}

/** The addresses the container holds on `network` (through connect; the run's own network is record.network). */
function heldAddresses(state: ContainerState, network: UserNetwork): string[] {
  const leases = networkLeases(network);
  const leases6 = networkLeases6(network);
  const holder = (address: string) => (address.includes(':') ? (leases6?.files.holder(address) ?? null) : leases.holder(address));
  return state.entries().flatMap((entry) => (entry.kind === 'lease' && entry.network === network.name && holder(entry.address) === state.id ? [entry.address] : []));
}

export async function connect(name: string, ref: string, flags: { ip?: string; alias?: string[] }): Promise<number> {
  const network = existingNetwork(name);
  const { container, state, pid, record } = await runningContainer(ref, 'connect');
  if (record.network === network.name || heldAddresses(state, network).length > 0) {
    throw new UsageError(`network connect: container ${ref} is already on network ${network.name}`);
  }
  const { connect: attachOne } = await import('../network/connect.js');
  const { nativeAddon } = await import('../native/index.js');
  try {
    await attachOne(
      nativeAddon(),
      network,
      {
        id: container.id,
        pid,
        names: [record.config.hostname, shortId(container.id), ...(container.name !== null ? [container.name] : [])],
        journal: (entry) => state.journal(entry),
        // One interface per IPv4 lease (a dual-stack network's IPv6 lease is on the same interface).
        interfaces: state.entries().filter((entry) => entry.kind === 'lease' && !entry.address.includes(':')).length,
      },
      { ip: flags.ip ?? null, aliases: flags.alias ?? [] },
    );
  } catch (cause) {
    // Nothing half-connected stays: what was made is undone now (the journal entries then find nothing).
    const { disconnect } = await import('../network/connect.js');
    for (const address of heldAddresses(state, network)) await disconnect(network, container.id, address).catch(() => {});
    throw cause;
  }
  return 0;
}

export async function disconnect(name: string, ref: string): Promise<number> {
  const network = existingNetwork(name);
  const { container, state, record } = await runningContainer(ref, 'disconnect');
  if (record.network === network.name) {
    throw new UsageError(`network disconnect: ${network.name} is the network container ${ref} was started on, which stays until it exits`);
  }
  const addresses = heldAddresses(state, network);
  if (addresses.length === 0) throw new UsageError(`network disconnect: container ${ref} is not on network ${network.name}`);
  const { disconnect: detachOne } = await import('../network/connect.js');
  for (const address of addresses) await detachOne(network, container.id, address);
  return 0;
}
