// RunSpec: everything a run needs, decided and validated before anything is created. Building it is pure (no I/O),
// so every rule for bad input is unit-tested here; the checks that need the file system (rootfs, command) are in
// rootfs.ts and run just after, still before any host object exists.

import { isAbsolute, posix } from 'node:path';
import { UsageError } from '../errors.js';
import { parseExpose, parsePublishFlags, publishAll, type PortMapping } from '../network/ports.js';
import { parseSignal } from '../sys/signal-names.js';
import { resolveCapabilities } from './capabilities.js';
import { parseLimits, type Limits } from './cgroups.js';
import { parseDeviceFlag, type DeviceRequest } from './devices.js';
import { parseLogOptions, type LogOptions } from './log-options.js';
import { mergeEnv, type ImageRun } from '../image/image-config.js';
import type { TimingsFormat } from './report.js';
import type { UserNetwork } from '../network/networks.js';
import { formatIpv4, parseIpv4, Subnet } from '../network/subnet.js';
import { formatIpv6, parseIpv6 } from '../network/subnet6.js';
import { parseMountFlags, type MountRequest } from '../volume/spec.js';

export type NetworkMode = 'bridge' | 'none' | 'host';

const NETWORK_MODES: readonly NetworkMode[] = ['bridge', 'none', 'host'];

/** The PATH Docker gives containers whose image sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Flags of `minictr run`, as commander parses them. */
export interface RunFlags {
  ip?: string;
  ip6?: string;
  rootfs?: string;
  /** Images only: --entrypoint, --pull, --platform. */
  entrypoint?: string;
  pull?: string;
  platform?: string;
  hostname?: string;
  name?: string;
  env?: string[];
  /** --env-file paths: the command reads them into `env`, before -e's entries (this module does no I/O). */
  envFile?: string[];
  workdir?: string;
  network?: string;
  publish?: string[];
  /** -P: publish every exposed port (the image's ExposedPorts and --expose) on a host port of the ephemeral range. */
  publishAll?: boolean;
  expose?: string[];
  stopSignal?: string;
  explain?: boolean;
  dryRun?: boolean;
  step?: boolean;
  privileged?: boolean;
  readOnly?: boolean;
  user?: string;
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  pidsLimit?: string;
  capAdd?: string[];
  capDrop?: string[];
  device?: string[];
  /** --timings alone is true; --timings=json is 'json'. */
  timings?: boolean | string;
  detach?: boolean;
  rm?: boolean;
  init?: boolean;
  tty?: boolean;
  interactive?: boolean;
  logOpt?: string[];
  /** --network-alias, --dns, --dns-search, --add-host (repeatable). */
  networkAlias?: string[];
  dns?: string[];
  dnsSearch?: string[];
  addHost?: string[];
  /** -v, --mount, --tmpfs (volume/spec.ts). */
  volume?: string[];
  mount?: string[];
  tmpfs?: string[];
}

/** What an image decides about a run (see image/image-config.ts), given to buildRunSpec once it is resolved. */
export interface ImageContext extends ImageRun {
  /** The full reference, as the store names it. */
  name: string;
  /** The config's digest: the image id. */
  id: string;
  /** The digest of the platform's image manifest (for --explain). */
  manifest: string;
  /** Unpacked layer directories, topmost first. */
  layers: string[];
}

export interface RunSpec {
  argv: string[];
  /** The image the container runs; null: a rootfs directory. */
  image: { name: string; id: string } | null;
  /** The overlay's read-only lower layers, topmost first: the image's, or the one rootfs. */
  layers: string[];
  /** The image manifest's digest, for --explain; null: a rootfs directory. */
  manifest: string | null;
  network: NetworkMode;
  /** --network NAME of a user-defined network (mode bridge: on its bridge); null: the default network or none. */
  userNetwork: UserNetwork | null;
  /** The container's names in its network's DNS besides its name and hostname (--network-alias). */
  aliases: string[];
  /** --dns servers, --dns-search domains and --add-host entries for /etc/resolv.conf and /etc/hosts. */
  dns: string[];
  dnsSearch: string[];
  addHosts: { name: string; address: string }[];
  /** --ip, parsed and checked against the subnet; null: take the lowest free address. */
  requestedIp: number | null;
  /** --ip6 on a dual-stack network, as formatIpv6 spells it; null: take the lowest free IPv6 address. */
  requestedIp6: string | null;
  subnet: Subnet;
  rootfs: string;
  /** null: the short id (or, with --network host, the host's name), known once the id exists. */
  hostname: string | null;
  name: string | null;
  /** User-given KEY=VALUE pairs; defaults (PATH, HOME, HOSTNAME) are added where the user gave none. */
  env: string[];
  workdir: string;
  /** -p and -P, one mapping per port; a host port to choose (ANY_PORT) gets one when the run claims it. */
  ports: PortMapping[];
  /** What `stop` sends first (--stop-signal, else the image's StopSignal); null: SIGTERM. */
  stopSignal: NodeJS.Signals | null;
  /** Print each step on stderr as it happens. */
  explain: boolean;
  /** --step: stop before each step until Enter is pressed on the caller's terminal (step-mode.ts). */
  step: boolean;
  /** --privileged: all capabilities, no masked or read-only kernel paths. */
  privileged: boolean;
  /** Capability numbers the container keeps (ignored when privileged). */
  capabilities: number[];
  /** --device flags; the host paths are checked in plan.ts. */
  devices: DeviceRequest[];
  limits: Limits;
  readOnly: boolean;
  /** --user as given; resolved against the rootfs in plan.ts. */
  user: string | null;
  /** Print step durations on stderr when the container exits. */
  timings: TimingsFormat | null;
  /** -d: print the id and return once the container runs; minictr-monitor stays as its parent. */
  detach: boolean;
  /** --rm: remove the container when it exits (otherwise it is kept, exited, for ps -a and logs, until rm). */
  autoRemove: boolean;
  /** --init: minictr-init runs as PID 1, forwarding signals to the command and reaping orphans. */
  init: boolean;
  /** -t: a pseudo-terminal for stdin, stdout and stderr (with -d, the monitor holds it and logs its output). */
  tty: boolean;
  /**
   * -i with -t: minictr's stdin goes to the terminal (without -t the container reads minictr's stdin anyway). With
   * -d: stdin stays open (a pipe the monitor holds) instead of /dev/null, so `run -di sh` waits rather than exits.
   */
  interactive: boolean;
  /** -d: the rotation of container.log (--log-opt max-size, max-file). */
  log: LogOptions;
  /** -v, --mount, --tmpfs, in the order they are mounted (parents first). */
  mounts: MountRequest[];
}

const HOSTNAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** Docker's rule for container names: at least two characters. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
/** Names are file names in /run/minictr/names; Docker sets no limit, 255 would be the file system's. */
const MAX_NAME_LENGTH = 128;
const ENV_KEY = /^[^=\0]+$/;

function parseNetwork(value: string | undefined, userNetwork: UserNetwork | null): NetworkMode {
  const mode = value ?? 'bridge';
  if (userNetwork !== null && userNetwork.name === mode) return 'bridge';
  if (!(NETWORK_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(`invalid --network "${mode}": expected one of ${NETWORK_MODES.join(', ')} or a network's name`);
  }
  return mode as NetworkMode;
}

/** --add-host NAME:ADDRESS (host-gateway: the container's gateway, as Docker's). */
function parseAddHost(value: string, gateway: string): { name: string; address: string } {
  const colon = value.indexOf(':');
  const name = value.slice(0, colon);
  const given = value.slice(colon + 1);
  const address = given === 'host-gateway' ? gateway : given;
  if (colon <= 0 || !HOSTNAME.test(name) || parseIpv4(address) === null) {
    throw new UsageError(`invalid --add-host "${value}": expected NAME:IPv4 address (or NAME:host-gateway)`);
  }
  return { name, address };
}

function parseIp(value: string | undefined, network: NetworkMode, subnet: Subnet): number | null {
  if (value === undefined) return null;
  if (network !== 'bridge') throw new UsageError(`--ip cannot be used with --network ${network}`);
  const address = parseIpv4(value);
  if (address === null) throw new UsageError(`invalid --ip "${value}": not an IPv4 address`);
  const reason = subnet.unusableReason(address);
  if (reason !== null) throw new UsageError(`invalid --ip ${value}: ${reason}`);
  return address;
}

function parseIp6(value: string | undefined, network: UserNetwork | null): string | null {
  if (value === undefined) return null;
  if (network === null || network.parsedSubnet6 === null || network.parsedGateway6 === null) throw new UsageError('--ip6 needs a network created with --ipv6 (--network NAME)');
  const address = parseIpv6(value);
  if (address === null) throw new UsageError(`invalid --ip6 "${value}": not an IPv6 address`);
  const reason = network.parsedSubnet6.unusableReason(address, network.parsedGateway6);
  if (reason !== null) throw new UsageError(`invalid --ip6 ${value}: ${reason}`);
  return formatIpv6(address);
}

function parseTimings(value: boolean | string | undefined): TimingsFormat | null {
  if (value === undefined || value === false) return null;
  if (value === true || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw new UsageError(`invalid --timings "${value}": text or json`);
}

/**
 * -e KEY=VALUE sets; -e KEY copies KEY from minictr's own environment, and is dropped when unset there (Docker). A
 * key given again takes the later value, in the place of the first.
 */
export function parseEnv(values: readonly string[], hostEnv: NodeJS.ProcessEnv): string[] {
  const env = new Map<string, string>();
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    if (!ENV_KEY.test(key) || value.includes('\0')) throw new UsageError(`invalid --env "${value}": expected KEY=VALUE`);
    if (eq >= 0) env.set(key, value);
    else if (hostEnv[key] !== undefined) env.set(key, `${key}=${hostEnv[key]}`);
  }
  return [...env.values()];
}

export function buildRunSpec(
  flags: RunFlags,
  command: readonly string[],
  context: { defaultRootfs: string; subnet: Subnet; hostEnv: NodeJS.ProcessEnv; cwd: string; image?: ImageContext; network?: UserNetwork },
): RunSpec {
  const image = context.image ?? null;
  if (image !== null) command = image.argv;
  if (command.length === 0 || command[0] === '') {
    throw new UsageError('no command given: minictr run [OPTIONS] COMMAND [ARG...]');
  }
  if (command.some((arg) => arg.includes('\0'))) throw new UsageError('command arguments cannot contain NUL bytes');
  const userNetwork = context.network ?? null;
  const network = parseNetwork(flags.network, userNetwork);
  const subnet = userNetwork?.parsedSubnet ?? context.subnet;
  const gateway = formatIpv4(userNetwork?.parsedGateway ?? subnet.gateway);
  const requestedIp = parseIp(flags.ip, network, subnet);
  if (requestedIp !== null && formatIpv4(requestedIp) === gateway) throw new UsageError(`invalid --ip ${flags.ip}: is the gateway of network ${userNetwork?.name}`);
  const requestedIp6 = parseIp6(flags.ip6, network === 'bridge' ? userNetwork : null);
  if ((flags.networkAlias ?? []).length > 0 && userNetwork === null) throw new UsageError('--network-alias needs a user-defined network (--network NAME)');
  for (const alias of flags.networkAlias ?? []) if (!HOSTNAME.test(alias)) throw new UsageError(`invalid --network-alias "${alias}": letters, digits, '-' and '.'`);
  for (const server of flags.dns ?? []) if (parseIpv4(server) === null) throw new UsageError(`invalid --dns "${server}": not an IPv4 address`);
  for (const domain of flags.dnsSearch ?? []) if (!HOSTNAME.test(domain)) throw new UsageError(`invalid --dns-search "${domain}": not a domain name`);
  const addHosts = (flags.addHost ?? []).map((value) => parseAddHost(value, gateway));
  if (userNetwork?.internal && (flags.publish ?? []).length + (flags.publishAll ? 1 : 0) > 0) {
    throw new UsageError(`--publish: network ${userNetwork.name} is internal, nothing reaches it from outside`);
  }
  const explicit = parsePublishFlags(flags.publish ?? []);
  const exposed = [...(image?.exposedPorts ?? []), ...(flags.expose ?? []).flatMap(parseExpose)];
  const ports = flags.publishAll ? [...explicit, ...publishAll(exposed, explicit)] : explicit;
  if (ports.length > 0 && network !== 'bridge') {
    throw new UsageError(`${explicit.length > 0 ? '--publish' : '--publish-all'} needs --network bridge: with --network ${network} there is no container address`);
  }
  if (flags.hostname !== undefined && !HOSTNAME.test(flags.hostname)) {
    throw new UsageError(`invalid --hostname "${flags.hostname}": letters, digits, '-' and '.', at most 63 per label`);
  }
  if (flags.hostname !== undefined && flags.hostname.length > 64) {
    throw new UsageError(`invalid --hostname "${flags.hostname}": longer than 64 characters`);
  }
  if (flags.name !== undefined && (!NAME.test(flags.name) || flags.name.length > MAX_NAME_LENGTH)) {
    throw new UsageError(
      `invalid --name "${flags.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-]+ (from 2 to ${MAX_NAME_LENGTH} characters) is allowed`,
    );
  }
  if (flags.step && flags.dryRun) throw new UsageError('--step runs the container, --dry-run does not: give one of them');
  if (flags.step && flags.timings !== undefined) throw new UsageError('--timings cannot be used with --step: it would time the pauses');
  const workdir = flags.workdir ?? image?.workdir ?? '/';
  if (!isAbsolute(workdir)) throw new UsageError(`invalid --workdir "${workdir}": must be an absolute path`);
  const log = parseLogOptions(flags.logOpt ?? []);
  if ((flags.logOpt ?? []).length > 0 && !flags.detach) throw new UsageError('--log-opt needs -d: only detached containers have a log');
  const rootfs = image !== null ? image.layers[0]! : flags.rootfs === undefined ? context.defaultRootfs : posix.resolve(context.cwd, flags.rootfs);
  return {
    argv: [...command],
    image: image === null ? null : { name: image.name, id: image.id },
    layers: image === null ? [rootfs] : image.layers,
    manifest: image?.manifest ?? null,
    network,
    userNetwork,
    aliases: flags.networkAlias ?? [],
    dns: flags.dns ?? [],
    dnsSearch: flags.dnsSearch ?? [],
    addHosts,
    requestedIp,
    requestedIp6,
    subnet,
    rootfs,
    hostname: flags.hostname ?? null,
    name: flags.name ?? null,
    env: image === null ? parseEnv(flags.env ?? [], context.hostEnv) : mergeEnv(image.env, parseEnv(flags.env ?? [], context.hostEnv)),
    workdir: posix.normalize(workdir),
    ports,
    stopSignal: flags.stopSignal !== undefined ? parseSignal(flags.stopSignal, '--stop-signal') : image?.stopSignal ? parseSignal(image.stopSignal, `StopSignal of image ${image.name}`) : null,
    explain: flags.explain ?? false,
    step: flags.step ?? false,
    privileged: flags.privileged ?? false,
    capabilities: resolveCapabilities(flags.capAdd ?? [], flags.capDrop ?? []),
    devices: (flags.device ?? []).map(parseDeviceFlag),
    limits: parseLimits(flags),
    readOnly: flags.readOnly ?? false,
    user: flags.user ?? image?.user ?? null,
    timings: parseTimings(flags.timings),
    detach: flags.detach ?? false,
    autoRemove: flags.rm ?? false,
    init: flags.init ?? false,
    tty: flags.tty ?? false,
    interactive: flags.interactive ?? false,
    log,
    mounts: parseMountFlags(flags, context.cwd),
  };
}

/** The container's environment: the user's values, then defaults for the keys the user did not set. */
export function containerEnv(spec: RunSpec, hostname: string, home = '/root'): string[] {
  const keys = new Set(spec.env.map((entry) => entry.slice(0, entry.indexOf('='))));
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, `HOME=${home}`];
  return [...defaults.filter((entry) => !keys.has(entry.slice(0, entry.indexOf('=')))), ...spec.env];
}
