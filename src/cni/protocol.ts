// The CNI protocol as minictr-cni speaks it (CNI spec 1.0/1.1, https://www.cni.dev/docs/spec/): the request a
// runtime makes (CNI_* environment variables and the network configuration on stdin), read and checked into one
// typed value, and the error value the plugin prints on stdout. Pure: nothing here touches the host, so the unit
// tests cover every refusal.
//
// The configuration minictr-cni reads (docs/cni.md):
//   { "cniVersion": "1.0.0", "name": "mcnet", "type": "minictr-cni", "bridge": "cni-mc0",
//     "ipam": { "subnet": "10.88.7.0/24", "gateway": "10.88.7.1" },
//     "capabilities": { "portMappings": true },
//     "runtimeConfig": { "portMappings": [ { "hostPort": 8080, "containerPort": 80, "protocol": "tcp" } ] } }

import type { PortMapping } from '../network/ports.js';
import { formatIpv4, parseIpv4, Subnet } from '../network/subnet.js';

/** Versions whose result format minictr-cni writes: CHECK came with 0.4.0, STATUS and GC with 1.1.0. */
export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export const PLUGIN_VERSION = '1.1.0';

/** The spec's well-known error codes, and minictr-cni's own (100 and up are the plugin's, by the spec). */
export const ErrorCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  invalidEnvironment: 4,
  decodeFailure: 6,
  invalidConfig: 7,
  alreadyAttached: 100,
  attachmentBroken: 101,
  resourceInUse: 102,
  failure: 999,
} as const;

/** An error as the spec prints it: {cniVersion, code, msg, details}. */
export class CniError extends Error {
  readonly code: number;
  readonly details: string;

  constructor(code: number, msg: string, details = '') {
    super(msg);
    this.code = code;
    this.details = details;
  }

  toJSON(cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
    return { cniVersion, code: this.code, msg: this.message, ...(this.details === '' ? {} : { details: this.details }) };
  }
}

export type Command = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
const COMMANDS: readonly Command[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

/** The network as the configuration names it. */
export interface CniNetwork {
  cniVersion: string;
  name: string;
  bridge: string;
  subnet: Subnet;
  gateway: number;
}

/** One container's interface: the key of everything ADD creates. */
export interface AttachmentKey {
  containerId: string;
  ifname: string;
}

export type Request =
  | { command: 'VERSION'; cniVersion: string }
  | { command: 'STATUS'; network: CniNetwork }
  | { command: 'GC'; network: CniNetwork; valid: AttachmentKey[] }
  | { command: 'ADD' | 'CHECK'; network: CniNetwork; key: AttachmentKey; netns: string; ports: PortMapping[] }
  | { command: 'DEL'; network: CniNetwork; key: AttachmentKey; netns: string; ports: PortMapping[] };

/** The spec's rule for network names and container ids, and Linux's for interface names. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
const IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

function invalidConfig(msg: string): CniError {
  return new CniError(ErrorCode.invalidConfig, msg);
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function parseNetwork(config: Record<string, unknown>, cniVersion: string): CniNetwork {
  const { name, type, bridge } = config;
  if (typeof name !== 'string' || !NETWORK_NAME.test(name)) throw invalidConfig(`network config: "name" must match ${NETWORK_NAME.source}`);
  if (type !== 'minictr-cni') throw invalidConfig(`network config: "type" is ${JSON.stringify(type)}, not "minictr-cni"`);
  if (typeof bridge !== 'string' || !IFNAME.test(bridge) || bridge === '.' || bridge === '..') {
    throw invalidConfig('network config: "bridge" must be an interface name (1-15 of [a-zA-Z0-9_.-])');
  }
  // minictr's own bridges are minictr0 and mcbr<id>: a CNI network of that name would share their rules.
  if (bridge === 'minictr0' || /^mcbr/.test(bridge)) throw invalidConfig(`network config: bridge ${bridge} is one of minictr's own`);
  const ipam = record(config.ipam);
  if (ipam === null || typeof ipam.subnet !== 'string') throw invalidConfig('network config: "ipam.subnet" (an IPv4 CIDR) is required');
  if (ipam.type !== undefined) throw new CniError(ErrorCode.unsupportedField, `network config: "ipam.type" is not supported: minictr-cni does its own address management`);
  let subnet: Subnet;
  try {
    subnet = Subnet.parse(ipam.subnet);
  } catch (cause) {
    throw invalidConfig(`network config: "ipam.subnet": ${(cause as Error).message}`);
  }
  let gateway = subnet.gateway;
  if (ipam.gateway !== undefined) {
    const parsed = typeof ipam.gateway === 'string' ? parseIpv4(ipam.gateway) : null;
    if (parsed === null || !subnet.contains(parsed) || parsed === subnet.network || parsed === subnet.broadcast) {
      throw invalidConfig(`network config: "ipam.gateway" must be a host address of ${subnet.toString()}`);
    }
    gateway = parsed;
  }
  return { cniVersion, name, bridge, subnet, gateway };
}

/** runtimeConfig.portMappings as Podman and containerd pass them; hostIP "" or absent is every address. */
export function parsePortMappings(value: unknown): PortMapping[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidConfig('runtimeConfig.portMappings must be an array');
  return value.map((item, index) => {
    const entry = record(item);
    const what = `runtimeConfig.portMappings[${index}]`;
    if (entry === null) throw invalidConfig(`${what} must be an object`);
    const port = (field: string) => {
      const number = entry[field];
      if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) throw invalidConfig(`${what}.${field} must be a port (1-65535)`);
      return number;
    };
    const protocol = entry.protocol ?? 'tcp';
    if (protocol !== 'tcp' && protocol !== 'udp') throw invalidConfig(`${what}.protocol must be tcp or udp`);
    let hostIp: string | null = null;
    if (entry.hostIP !== undefined && entry.hostIP !== '' && entry.hostIP !== '0.0.0.0') {
      if (typeof entry.hostIP !== 'string' || parseIpv4(entry.hostIP) === null) throw invalidConfig(`${what}.hostIP must be an IPv4 address`);
      hostIp = entry.hostIP;
    }
    return { hostIp, hostPort: port('hostPort'), containerPort: port('containerPort'), protocol };
  });
}

function parseValidAttachments(value: unknown): AttachmentKey[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidConfig('"cni.dev/valid-attachments" must be an array');
  return value.map((item) => {
    const entry = record(item);
    if (entry === null || typeof entry.containerID !== 'string' || typeof entry.ifname !== 'string') {
      throw invalidConfig('"cni.dev/valid-attachments" entries are {containerID, ifname}');
    }
    return { containerId: entry.containerID, ifname: entry.ifname };
  });
}

function requireEnv(env: Readonly<Record<string, string | undefined>>, name: string, pattern: RegExp | null): string {
  const value = env[name];
  if (value === undefined || value === '' || (pattern !== null && !pattern.test(value))) {
    throw new CniError(ErrorCode.invalidEnvironment, `${name} is ${value === undefined || value === '' ? 'missing' : `invalid: ${JSON.stringify(value)}`}`);
  }
  return value;
}

/** Reads a request. Throws CniError with the spec's code for each kind of bad input. */
export function parseRequest(env: Readonly<Record<string, string | undefined>>, stdin: string): Request {
  const command = requireEnv(env, 'CNI_COMMAND', null) as Command;
  if (!COMMANDS.includes(command)) throw new CniError(ErrorCode.invalidEnvironment, `CNI_COMMAND ${JSON.stringify(command)} is not one of ${COMMANDS.join(', ')}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin);
  } catch (cause) {
    throw new CniError(ErrorCode.decodeFailure, 'cannot decode the network configuration on stdin', (cause as Error).message);
  }
  const config = record(parsed);
  if (config === null) throw new CniError(ErrorCode.decodeFailure, 'the network configuration on stdin is not a JSON object');
  const cniVersion = config.cniVersion;
  if (typeof cniVersion !== 'string') throw invalidConfig('network config: "cniVersion" is required');
  if (command === 'VERSION') return { command, cniVersion };
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(ErrorCode.incompatibleVersion, `CNI version ${cniVersion} is not supported`, `supported: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  const network = parseNetwork(config, cniVersion);
  if (command === 'STATUS') return { command, network };
  if (command === 'GC') return { command, network, valid: parseValidAttachments(config['cni.dev/valid-attachments']) };
  const key = { containerId: requireEnv(env, 'CNI_CONTAINERID', CONTAINER_ID), ifname: requireEnv(env, 'CNI_IFNAME', IFNAME) };
  // DEL may come after the namespace is gone, with CNI_NETNS empty: everything DEL needs is in its record.
  const netns = command === 'DEL' ? (env.CNI_NETNS ?? '') : requireEnv(env, 'CNI_NETNS', /^\//);
  const ports = parsePortMappings(record(config.runtimeConfig)?.portMappings);
  return { command, network, key, netns, ports };
}

/** The spec's result of an ADD (1.0.0 shape; 0.4.0 adds each IP's version). */
export function addResult(network: CniNetwork, key: AttachmentKey, netns: string, address: string, containerMac: string, bridgeMac: string, hostVeth: string): object {
  const v04 = network.cniVersion === '0.4.0';
  return {
    cniVersion: network.cniVersion,
    interfaces: [
      { name: network.bridge, mac: bridgeMac },
      { name: hostVeth },
      { name: key.ifname, mac: containerMac, sandbox: netns },
    ],
    ips: [{ ...(v04 ? { version: '4' } : {}), address: `${address}/${network.subnet.prefixLength}`, gateway: formatIpv4(network.gateway), interface: 2 }],
    routes: [{ dst: '0.0.0.0/0', gw: formatIpv4(network.gateway) }],
    dns: {},
  };
}
