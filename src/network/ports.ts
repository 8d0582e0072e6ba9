// Published ports (-p [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]), from flag to kernel.
//
// Parsing is pure. Before anything is created, each host port is bound once, to check that no socket of the host
// holds it (a port a host process listens on would never see its traffic again once DNAT takes it). While a
// container runs, its host ports are held in a registry of O_EXCL files, /run/minictr/ports/<protocol>-<port>, like
// address leases, so two containers can never publish the same port. A port found bound is blamed on the container
// holding it in the registry, if any, before a host process: another minictr run checks it the same way. The
// forwarding itself is kernel DNAT through two nftables maps (see firewall.ts): adding or removing a container's
// ports is one transaction and never adds a rule.

import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinictrError, UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { Registry } from '../sys/exclusive-file.js';
import { parseIpv4 } from './subnet.js';

export type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  /** null: every address of the host (Docker's 0.0.0.0). */
  hostIp: string | null;
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

/** A range flag can publish many ports; past this it is more likely a typo than a plan. */
const MAX_PORTS_PER_FLAG = 1024;
/**
 * A port bound by another minictr run's check (bindOnce) is free again within a millisecond or two: a port found
 * bound is tried again this many times, this far apart, before a host process is blamed.
 */
const BUSY_RETRIES = 5;
const BUSY_RETRY_MS = 20;

function publishedBy(mapping: PortMapping, holder: string): UsageError {
  return new UsageError(`port ${mapping.hostPort}/${mapping.protocol} is already published by container ${shortId(holder)}`);
}

function parsePortRange(text: string, spec: string, what: string): [number, number] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const first = match ? Number(match[1]) : NaN;
  const last = match?.[2] !== undefined ? Number(match[2]) : first;
  if (!match) throw new UsageError(`invalid --publish "${spec}": ${what} "${text}" is not a port or port range`);
  for (const port of [first, last]) {
    if (port < 1 || port > 65535) throw new UsageError(`invalid --publish "${spec}": ${what} ${port} is not in 1-65535`);
  }
  if (last < first) throw new UsageError(`invalid --publish "${spec}": ${what} range ${text} is reversed`);
  return [first, last];
}

/** Parses one -p value into one mapping per port. */
export function parsePublish(spec: string): PortMapping[] {
  const [addressPart, protocolPart, ...extra] = spec.split('/');
  const protocol = protocolPart ?? 'tcp';
  if (extra.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) {
    throw new UsageError(`invalid --publish "${spec}": protocol must be tcp or udp`);
  }
  const parts = addressPart!.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new UsageError(`invalid --publish "${spec}": expected [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]`);
  }
  const [hostIpText, hostText, containerText] = parts.length === 3 ? parts : [null, parts[0]!, parts[1]!];
  let hostIp: string | null = null;
  if (hostIpText !== null && hostIpText !== '' && hostIpText !== '0.0.0.0') {
    if (parseIpv4(hostIpText) === null) throw new UsageError(`invalid --publish "${spec}": "${hostIpText}" is not an IPv4 address`);
    hostIp = hostIpText;
  }
  const [hostFirst, hostLast] = parsePortRange(hostText!, spec, 'host port');
  const [containerFirst, containerLast] = parsePortRange(containerText!, spec, 'container port');
  const count = hostLast - hostFirst + 1;
  if (containerLast - containerFirst + 1 !== count) {
    throw new UsageError(`invalid --publish "${spec}": host and container port ranges differ in length`);
  }
  if (count > MAX_PORTS_PER_FLAG) throw new UsageError(`invalid --publish "${spec}": more than ${MAX_PORTS_PER_FLAG} ports`);
  return Array.from({ length: count }, (_, i) => ({
    hostIp,
    hostPort: hostFirst + i,
    containerPort: containerFirst + i,
    protocol: protocol as Protocol,
  }));
}

/** Parses every -p value and refuses a host port given twice. */
export function parsePublishFlags(values: readonly string[]): PortMapping[] {
  const mappings = values.flatMap(parsePublish);
  const seen = new Set<string>();
  for (const mapping of mappings) {
    const key = `${mapping.hostPort}/${mapping.protocol}`;
    if (seen.has(key)) throw new UsageError(`invalid --publish: host port ${key} is published twice`);
    seen.add(key);
  }
  return mappings;
}

export function describeMapping(mapping: PortMapping, containerAddress: string): string {
  return `${mapping.hostIp ?? '0.0.0.0'}:${mapping.hostPort}/${mapping.protocol} -> ${containerAddress}:${mapping.containerPort}`;
}

/**
 * Binds a mapping's host address and port for a moment, as a host process would, and lets go. The kernel answers
 * EADDRINUSE when a host socket holds the port: a TCP listener (IPv4, or IPv6 dual-stack), a bound UDP socket, or a
 * connection that has it as its own local port. That is the answer Docker gets, as it binds the published port
 * for the container's life; minictr only asks. An IPv6-only socket is no conflict: the DNAT is IPv4 only. (Reading
 * /proc/net/tcp instead walks the kernel's whole connection hash: 6 ms with no socket at all.)
 */
async function bindOnce(mapping: PortMapping): Promise<NodeJS.ErrnoException | null> {
  const address = mapping.hostIp ?? '0.0.0.0';
  // Loaded here, not at the top: a run without -p does not pay for compiling Node's net and dgram modules.
  if (mapping.protocol === 'tcp') {
    const { createServer } = await import('node:net');
    const server = createServer();
    return new Promise((resolve) => {
      server.once('error', resolve); // a listen that fails leaves no handle behind
      server.listen({ host: address, port: mapping.hostPort, exclusive: true }, () => server.close(() => resolve(null)));
    });
  }
  const { createSocket } = await import('node:dgram');
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', (failure) => socket.close(() => resolve(failure)));
    socket.bind({ address, port: mapping.hostPort, exclusive: true }, () => socket.close(() => resolve(null)));
  });
}

/**
 * Checks, before anything is created, that each host IP is this host's and no host socket holds a host port. A
 * port found bound is reported as published by the container that holds it in `registry` (a concurrent run, whose
 * own check or whose container binds it); otherwise it is tried again for a moment, since another run may be
 * checking it at this very instant, and then blamed on a host process.
 */
export async function checkHostPorts(mappings: readonly PortMapping[], registry: PortRegistry): Promise<void> {
  if (mappings.length === 0) return;
  const local = new Set(
    Object.values(networkInterfaces())
      .flat()
      .map((info) => info?.address),
  );
  for (const mapping of mappings) {
    if (mapping.hostIp !== null && !local.has(mapping.hostIp)) {
      throw new UsageError(`cannot publish on ${mapping.hostIp}: it is not an address of this host`);
    }
    for (let attempt = 0; ; attempt++) {
      const failure = await bindOnce(mapping);
      if (failure === null) break;
      if (failure.code !== 'EADDRINUSE') {
        throw new MinictrError(`check host port ${mapping.hostPort}/${mapping.protocol}: ${failure.message}`, 'failure', failure);
      }
      const holder = registry.holder(mapping);
      if (holder !== null) throw publishedBy(mapping, holder);
      if (attempt === BUSY_RETRIES) {
        throw new UsageError(`cannot publish port ${mapping.hostPort}/${mapping.protocol}: a host process is already using it`);
      }
      await sleep(BUSY_RETRY_MS);
    }
  }
}

/** The registry of host ports held by running containers. */
export class PortRegistry {
  readonly files: Registry;

  constructor(dir: string) {
    this.files = new Registry(dir);
  }

  private key(mapping: PortMapping): string {
    return `${mapping.protocol}-${mapping.hostPort}`;
  }

  /** Claims every host port for `owner`, or none: on a conflict the ones already claimed are released. */
  claim(owner: string, mappings: readonly PortMapping[]): void {
    const claimed: PortMapping[] = [];
    for (const mapping of mappings) {
      if (!this.files.claim(this.key(mapping), owner)) {
        this.release(owner, claimed);
        throw publishedBy(mapping, this.holder(mapping) ?? '(unknown)');
      }
      claimed.push(mapping);
    }
  }

  holder(mapping: PortMapping): string | null {
    return this.files.holder(this.key(mapping));
  }

  release(owner: string, mappings: readonly PortMapping[]): void {
    for (const mapping of mappings) this.files.release(this.key(mapping), owner);
  }
}
