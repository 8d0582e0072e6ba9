// Published ports (-p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp], -P), from flag to kernel.
//
// Parsing is pure. Before anything is created, each host port given is bound once, to check that no socket of the
// host holds it (a port a host process listens on would never see its traffic again once DNAT takes it). While a
// container runs, its host ports are held in a registry of O_EXCL files, /run/minictr/ports/<protocol>-<port>, like
// address leases, so two containers can never publish the same port. A port found bound is blamed on the container
// holding it in the registry, if any, before a host process: another minictr run checks it the same way. A mapping
// without a host port (-p 80, -p 127.0.0.1::80, and -P for each port the image exposes or --expose names) gets one
// of the host's ephemeral range (ip_local_port_range, less ip_local_reserved_ports) when the run claims its ports,
// as Docker chooses them: one this run can take in the registry, then found free on the host by the same bind. The
// forwarding itself is kernel DNAT through two nftables maps (see firewall.ts): adding or removing a container's
// ports is one transaction and never adds a rule.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MinictrError, UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { Registry } from '../sys/exclusive-file.js';
import { nativeAddon } from '../native/index.js';
import { crypto } from '../sys/builtins.js';
import { parseIpv4 } from './subnet.js';

export type Protocol = 'tcp' | 'udp';

export interface PortMapping {
  /** null: every address of the host (Docker's 0.0.0.0). */
  hostIp: string | null;
  /** 0 until the run chooses it from the ephemeral range (ANY_PORT). */
  hostPort: number;
  containerPort: number;
  protocol: Protocol;
}

/** The host port of a mapping whose host port the run chooses. */
export const ANY_PORT = 0;

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

/** Parses one -p value into one mapping per port; without a host port, the run chooses one per port (ANY_PORT). */
export function parsePublish(spec: string): PortMapping[] {
  // Docker's [ADDRESS]:HOST_PORT:CONTAINER_PORT: refused, said plainly (see the README's networks section).
  if (spec.startsWith('[')) {
    throw new UsageError(
      `invalid --publish "${spec}": a host IPv6 address is not supported; without an address the port is published on every address of the host, [::1] included, for a container on an --ipv6 network`,
    );
  }
  const [addressPart, protocolPart, ...extra] = spec.split('/');
  const protocol = protocolPart ?? 'tcp';
  if (extra.length > 0 || (protocol !== 'tcp' && protocol !== 'udp')) {
    throw new UsageError(`invalid --publish "${spec}": protocol must be tcp or udp`);
  }
  const parts = addressPart!.split(':');
  if (parts.length > 3) {
    throw new UsageError(`invalid --publish "${spec}": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]`);
  }
  const [hostIpText, hostText, containerText] =
    parts.length === 3 ? parts : parts.length === 2 ? [null, parts[0]!, parts[1]!] : [null, '', parts[0]!];
  let hostIp: string | null = null;
  if (hostIpText !== null && hostIpText !== '' && hostIpText !== '0.0.0.0') {
    if (parseIpv4(hostIpText) === null) throw new UsageError(`invalid --publish "${spec}": "${hostIpText}" is not an IPv4 address`);
    hostIp = hostIpText;
  }
  const [containerFirst, containerLast] = parsePortRange(containerText!, spec, 'container port');
  const count = containerLast - containerFirst + 1;
  const [hostFirst, hostLast] = hostText === '' ? [ANY_PORT, ANY_PORT + count - 1] : parsePortRange(hostText!, spec, 'host port');
  if (hostLast - hostFirst + 1 !== count) {
    throw new UsageError(`invalid --publish "${spec}": host and container port ranges differ in length`);
  }
  if (count > MAX_PORTS_PER_FLAG) throw new UsageError(`invalid --publish "${spec}": more than ${MAX_PORTS_PER_FLAG} ports`);
  return Array.from({ length: count }, (_, i) => ({
    hostIp,
    hostPort: hostText === '' ? ANY_PORT : hostFirst + i,
    containerPort: containerFirst + i,
    protocol: protocol as Protocol,
  }));
}

/** Parses one --expose value, PORT[-PORT][/tcp|udp], into "PORT/PROTOCOL" entries as an image's ExposedPorts has them. */
export function parseExpose(spec: string): string[] {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp))?$/.exec(spec);
  const first = match ? Number(match[1]) : NaN;
  const last = match?.[2] !== undefined ? Number(match[2]) : first;
  if (!match || first < 1 || last > 65535 || last < first || last - first >= MAX_PORTS_PER_FLAG) {
    throw new UsageError(`invalid --expose "${spec}": expected PORT[-PORT][/tcp|udp], ports in 1-65535`);
  }
  return Array.from({ length: last - first + 1 }, (_, i) => `${first + i}/${match[3] ?? 'tcp'}`);
}

/**
 * -P: a mapping with a host port to choose for each exposed port ("80/tcp") that no -p publishes already, in
 * order, each once. minictr forwards tcp and udp only: an sctp port cannot be published.
 */
export function publishAll(exposed: readonly string[], explicit: readonly PortMapping[]): PortMapping[] {
  const published = new Set(explicit.map((mapping) => `${mapping.containerPort}/${mapping.protocol}`));
  const added: PortMapping[] = [];
  for (const entry of exposed) {
    const [port, protocol = 'tcp'] = entry.split('/');
    if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`--publish-all: exposed port ${entry}: only tcp and udp ports can be published`);
    if (published.has(`${Number(port)}/${protocol}`)) continue;
    published.add(`${Number(port)}/${protocol}`);
    added.push({ hostIp: null, hostPort: ANY_PORT, containerPort: Number(port), protocol });
  }
  return added;
}

/** The ports of `ip_local_port_range` ("32768\t60999"), less those of `ip_local_reserved_ports` ("8080,9000-9010"). */
export function ephemeralPorts(rangeText: string, reservedText: string): { first: number; last: number; reserved: Set<number> } {
  const [first = NaN, last = NaN] = rangeText.trim().split(/\s+/).map(Number);
  if (!(first >= 1 && last <= 65535 && first <= last)) throw new MinictrError(`read the ephemeral port range: unexpected "${rangeText.trim()}"`);
  const reserved = new Set<number>();
  for (const item of reservedText.trim().split(',').filter((text) => text !== '')) {
    const [from = NaN, to = from] = item.split('-').map(Number);
    for (let port = Math.max(from, first); port <= Math.min(to, last); port++) reserved.add(port);
  }
  return { first, last, reserved };
}

/** Parses every -p value and refuses a host port given twice. */
export function parsePublishFlags(values: readonly string[]): PortMapping[] {
  const mappings = values.flatMap(parsePublish);
  const seen = new Set<string>();
  for (const mapping of mappings) {
    if (mapping.hostPort === ANY_PORT) continue;
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
 * /proc/net/tcp instead walks the kernel's whole connection hash: 6 ms with no socket at all; node:net's server
 * costs 3.5 ms of loading, the addon's probe microseconds.)
 */
function bindOnce(mapping: PortMapping): NodeJS.ErrnoException | null {
  const address = mapping.hostIp ?? '0.0.0.0';
  const addon = nativeAddon();
  const errno = addon.probePort(mapping.protocol, address, mapping.hostPort);
  if (errno === 0) return null;
  const { code, message } = addon.errnoDescription(errno);
  return Object.assign(new Error(`bind ${address}:${mapping.hostPort}/${mapping.protocol}: ${message}`), { code, errno });
}

/**
 * Checks, before anything is created, that each host IP is this host's and no host socket holds a host port. A
 * port found bound is reported as published by the container that holds it in `registry` (a concurrent run, whose
 * own check or whose container binds it); otherwise it is tried again for a moment, since another run may be
 * checking it at this very instant, and then blamed on a host process.
 */
export async function checkHostPorts(requested: readonly PortMapping[], registry: PortRegistry): Promise<void> {
  const mappings = requested.filter((mapping) => mapping.hostPort !== ANY_PORT); // chosen free at the claim
  if (mappings.length === 0) return;
  const local = mappings.some((mapping) => mapping.hostIp !== null)
    ? new Set(Object.values(networkInterfaces()).flat().map((info) => info?.address))
    : new Set<string | undefined>();
  for (const mapping of mappings) {
    if (mapping.hostIp !== null && !local.has(mapping.hostIp)) {
      throw new UsageError(`cannot publish on ${mapping.hostIp}: it is not an address of this host`);
    }
    for (let attempt = 0; ; attempt++) {
      const failure = bindOnce(mapping);
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

  /**
   * Claims every host port for `owner`, or none: on a conflict the ones already claimed are released. Returns the
   * mappings with their host ports: one left to choose (ANY_PORT) gets a port of the ephemeral range that this
   * claim takes in the registry (so two runs never choose the same) and a bind test finds free on the host.
   */
  async claim(owner: string, mappings: readonly PortMapping[]): Promise<PortMapping[]> {
    const claimed: PortMapping[] = [];
    try {
      for (const mapping of mappings.filter((m) => m.hostPort !== ANY_PORT)) {
        if (!this.files.claim(this.key(mapping), owner)) throw publishedBy(mapping, this.holder(mapping) ?? '(unknown)');
        claimed.push(mapping);
      }
      return await this.choose(mappings, async (candidate) => {
        if (!this.files.claim(this.key(candidate), owner)) return false;
        claimed.push(candidate);
        return true;
      }, (candidate) => {
        claimed.pop();
        this.files.release(this.key(candidate), owner);
      });
    } catch (cause) {
      this.release(owner, claimed);
      throw cause;
    }
  }

  /** The host ports a claim would choose now, taking none (--dry-run). */
  async peek(mappings: readonly PortMapping[]): Promise<PortMapping[]> {
    const chosen = new Set<string>();
    return this.choose(mappings, async (candidate) => {
      if (this.holder(candidate) !== null || chosen.has(this.key(candidate))) return false;
      chosen.add(this.key(candidate));
      return true;
    }, () => undefined);
  }

  /**
   * Gives each ANY_PORT mapping a host port: candidates from a random point of the ephemeral range on (concurrent
   * runs rarely meet), each taken with `take` and, when a host socket holds it, given back with `giveBack`.
   */
  private async choose(
    mappings: readonly PortMapping[],
    take: (candidate: PortMapping) => Promise<boolean>,
    giveBack: (candidate: PortMapping) => void,
  ): Promise<PortMapping[]> {
    if (!mappings.some((mapping) => mapping.hostPort === ANY_PORT)) return [...mappings];
    const { first, last, reserved } = ephemeralPorts(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'),
      readFileSync('/proc/sys/net/ipv4/ip_local_reserved_ports', 'utf8'),
    );
    const size = last - first + 1;
    const result: PortMapping[] = [];
    for (const mapping of mappings) {
      if (mapping.hostPort !== ANY_PORT) {
        result.push(mapping);
        continue;
      }
      let found: PortMapping | null = null;
      const start = crypto().randomInt(size);
      for (let i = 0; i < size && found === null; i++) {
        const candidate = { ...mapping, hostPort: first + ((start + i) % size) };
        if (reserved.has(candidate.hostPort) || !(await take(candidate))) continue;
        const failure = bindOnce(candidate);
        if (failure === null) found = candidate;
        else if (failure.code === 'EADDRINUSE') giveBack(candidate);
        else throw new MinictrError(`check host port ${candidate.hostPort}/${candidate.protocol}: ${failure.message}`, 'failure', failure);
      }
      if (found === null) {
        throw new UsageError(`cannot publish ${mapping.containerPort}/${mapping.protocol}: no free host port in the ephemeral range ${first}-${last}`);
      }
      result.push(found);
    }
    return result;
  }

  holder(mapping: PortMapping): string | null {
    return this.files.holder(this.key(mapping));
  }

  release(owner: string, mappings: readonly PortMapping[]): void {
    for (const mapping of mappings) this.files.release(this.key(mapping), owner);
  }
}
