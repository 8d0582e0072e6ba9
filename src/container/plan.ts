// The inputs of every step of a run, decided before anything is created: what validation found (Plan), and the
// exact data each later step hands to the kernel (the child's SpawnOptions, the ip batch lines, the nft script).
// The real run (lifecycle.ts) and its shell-script twin (dry-run.ts) both take their data from here, so the two
// cannot drift apart.

import { hostname as hostHostname, release } from 'node:os';
import { bridgeOperation } from '../network/bridge.js';
import { baseRuleset, publishLines, unpublishScript } from '../network/firewall.js';
import { BRIDGE, CONTAINER_IFNAME, hostVethName, macFor, SUBNET_CIDR } from '../network/names.js';
import { networkRuleset } from '../network/network-firewall.js';
import { checkHostPorts } from '../network/ports.js';
import { formatIpv4, parseIpv4, Subnet } from '../network/subnet.js';
import { formatIpv6, parseIpv6 } from '../network/subnet6.js';
import { networkIpv6 } from '../network/networks.js';
import { vethOperation } from '../network/veth.js';
import type { DeviceRule } from '../bpf/device-filter.js';
import type { SpawnOptions } from '../native/index.js';
import { encodeBytes } from '../sys/bytes.js';
import { preflight } from '../sys/preflight.js';
import { devicePolicy, resolveDevices, type Device } from './devices.js';
import { containerResolvConf, hostsFile, readHostFile, readHostResolvConf, withDnsFlags } from './etc-files.js';
import { ports } from './registries.js';
import { newId, shortId } from '../ids.js';
import { checkRootfs, defaultRootfs, describeRoot, findCommand } from './rootfs.js';
import type { Root } from './layered-root.js';
import { containerEnv, type RunSpec } from './spec.js';
import { nativeMounts, planMounts, type ContainerMount } from './mounts.js';
import { checkOverlayLayers, overlayOptions } from './overlay.js';
import { resolveUser, type User } from './users.js';

/** What was decided during validation: the inputs of every later step. */
export interface Plan {
  spec: RunSpec;
  id: string;
  hostname: string;
  env: string[];
  execPath: string;
  /** --user, resolved; null: root. */
  user: User | null;
  /** --device nodes, found on the host. */
  devices: Device[];
  /** The device policy of the container's cgroup; null: none (--privileged). */
  deviceRules: DeviceRule[] | null;
  /** -v, --mount, --tmpfs, anonymous volumes named. */
  mounts: ContainerMount[];
}

/** Validation: everything that can be checked before a host object exists. Throws the user's error. */
export async function planRun(spec: RunSpec): Promise<Plan> {
  preflight({ needsNetworkTools: spec.network === 'bridge' });
  const root: Root = spec.image === null ? spec.rootfs : spec.layers;
  checkRootfs(root, spec.rootfs === defaultRootfs());
  checkOverlayLayers(release(), spec.layers, spec.image === null ? `invalid --rootfs "${spec.rootfs}"` : `image ${spec.image.name}`);
  const id = newId();
  const hostname = spec.hostname ?? (spec.network === 'host' ? hostHostname() : shortId(id));
  const user = spec.user === null ? null : resolveUser(root, spec.user, describeRoot(root));
  const env = containerEnv(spec, hostname, user?.home);
  const path = env.find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? '';
  const execPath = findCommand(root, spec.argv[0]!, path, spec.workdir);
  const devices = resolveDevices(spec.devices);
  const mounts = planMounts(spec.mounts);
  await checkHostPorts(spec.ports, ports());
  return { spec, id, hostname, env, execPath, user, devices, deviceRules: devicePolicy(devices, spec.privileged), mounts };
}

/**
 * The files the child writes into /etc: the host's own with --network host, generated ones otherwise. A file on or
 * under a mount's path is the mount's (`-v ./resolv.conf:/etc/resolv.conf`, a volume on /etc), as in Docker.
 */
function etcFiles(plan: Plan, address: string | null, address6: string | null): { path: string; content: string }[] {
  const host = plan.spec.network === 'host';
  const mounted = (path: string) => plan.mounts.some((mount) => path === mount.target || path.startsWith(`${mount.target}/`));
  return [
    { path: '/etc/hostname', content: `${plan.hostname}\n` },
    { path: '/etc/hosts', content: (host ? readHostFile('/etc/hosts') : hostsFile(plan.hostname, address, address6)) + plan.spec.addHosts.map((entry) => `${entry.address}\t${entry.name}\n`).join('') },
    { path: '/etc/resolv.conf', content: resolvConf(plan, host) },
  ].filter((file) => !mounted(file.path));
}

/**
 * resolv.conf: the host's with --network host, else the host's without loopback servers; on a user-defined network
 * the network's resolver (on its gateway) only, which forwards what it does not know to the --dns servers or the
 * host's. --dns and --dns-search replace the servers and search domains.
 */
function resolvConf(plan: Plan, host: boolean): string {
  const { spec } = plan;
  const base = host ? readHostResolvConf() : containerResolvConf(readHostResolvConf());
  const servers = spec.userNetwork !== null ? [spec.userNetwork.gateway] : spec.dns;
  return withDnsFlags(base, servers, spec.dnsSearch);
}

/** The container's gateway: its network's. */
export function gatewayOf(spec: RunSpec): string {
  return formatIpv4(spec.userNetwork?.parsedGateway ?? spec.subnet.gateway);
}

/** The security profile the child applies last (and every `minictr exec` in the container with it). */
export function securityOptions(plan: Plan): SpawnOptions['security'] {
  const { spec } = plan;
  return {
    privileged: spec.privileged,
    capabilities: spec.capabilities,
    readOnly: spec.readOnly,
    user: plan.user === null ? null : { uid: plan.user.uid, gid: plan.user.gid },
  };
}

/** Everything the child needs, given where the container's overlay directories are. */
export function spawnOptions(
  plan: Plan,
  dirs: { upper: string; work: string; merged: string },
  address: string | null,
  address6: string | null = null,
): Omit<SpawnOptions, 'helper' | 'init' | 'terminal' | 'monitor' | 'cgroup'> {
  const { spec } = plan;
  const ipv6 = networkIpv6(spec.userNetwork);
  return {
    newNetwork: spec.network !== 'host',
    hostname: plan.hostname,
    interface:
      address === null
        ? null
        : {
            name: CONTAINER_IFNAME,
            address,
            prefixLength: spec.subnet.prefixLength,
            gateway: gatewayOf(spec),
            ipv6: ipv6 === null || address6 === null ? null : { address: address6, prefixLength: ipv6.subnet.prefixLength, gateway: formatIpv6(ipv6.gateway) },
          },
    overlay: overlayOptions(release(), spec.layers, { upper: dirs.upper, work: dirs.work, target: dirs.merged }),
    etcFiles: etcFiles(plan, address, address6),
    devices: plan.devices.map(({ path, type, major, minor, mode }) => ({ path, type, major, minor, mode })),
    mounts: nativeMounts(plan.mounts),
    workdir: spec.workdir,
    security: securityOptions(plan),
    execPath: plan.execPath,
    argv: spec.argv.map(encodeBytes),
    env: plan.env.map(encodeBytes),
  };
}

/**
 * The host side of the network for a container at `address` whose PID 1 is `pid` (a number, or "$PID"): what
 * network/attach.ts does, and the dry-run's scripts.
 */
export function hostNetwork(plan: Plan, address: string, pid: number | string, address6: string | null = null) {
  const { spec } = plan;
  const network = spec.userNetwork;
  const bridge = network?.bridge ?? BRIDGE;
  const veth = hostVethName(shortId(plan.id));
  const published = publishLines(spec.ports, address);
  const identity = { mac: macFor(parseIpv4(address)!), address: parseIpv4(address)!, ...(address6 !== null ? { address6: parseIpv6(address6)! } : {}) };
  return {
    subnet: spec.subnet,
    bridge,
    network,
    address,
    address6,
    veth,
    identity,
    bridgeLink: bridgeOperation(bridge, spec.subnet, network?.parsedGateway, networkIpv6(network)),
    vethLink: vethOperation(veth, bridge, pid, identity.mac),
    ports: spec.ports,
    publishLines: published,
    // The dry-run's scripts, built only when asked for: a run needs neither (and the base's marker hashes it all).
    /** One nft transaction: the base ruleset and this container's published ports. */
    get nftScript() {
      return baseRuleset(Subnet.parse(SUBNET_CIDR), BRIDGE) + (network === null ? '' : networkRuleset(network)) + published.join('\n');
    },
    get unpublishScript() {
      return spec.ports.length > 0 ? unpublishScript(spec.ports, address) : null;
    },
  };
}
