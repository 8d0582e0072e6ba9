// A bundle's config.json (the OCI runtime spec) turned into what the addon's spawnOci takes (src/native/types.ts),
// the cgroup limits (src/container/cgroups.ts) and the hooks. Pure apart from reading the bundle: every value is
// checked here, and a bad one is an error naming its place in the config ("process.args", "mounts[2].destination").
// apparmorProfile and selinuxLabel are accepted and ignored: minictr applies no LSM profile (docs/oci.md).

import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { CAPABILITIES } from '../container/capabilities.js';
import type { Limits } from '../container/cgroups.js';
import { UsageError } from '../errors.js';
import type { DeviceNode, OciSpawnOptions } from '../native/types.js';
import type { Resources } from './resources.js';
import { compileSeccomp, type SeccompProfile } from './seccomp.js';

/** The spec's types, as far as minictr reads them. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}
export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}
interface Mount {
  destination: string;
  source?: string;
  type?: string;
  options?: string[];
}
interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user?: { uid: number; gid: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: Partial<Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>>;
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
}
interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: {
    namespaces?: { type: string; path?: string }[];
    resources?: Resources;
    cgroupsPath?: string;
    sysctl?: Record<string, string>;
    devices?: { path: string; type: string; major?: number; minor?: number; fileMode?: number }[];
    seccomp?: unknown;
    maskedPaths?: string[];
    readonlyPaths?: string[];
    rootfsPropagation?: string;
    uidMappings?: IdMapping[];
    gidMappings?: IdMapping[];
  };
}

const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128,
  NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18,
  SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

/** Mount options that are flags: [set, clear]. */
const FLAG_OPTIONS: Readonly<Record<string, [number, number]>> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY], nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID], nodev: [MS.NODEV, 0],
  dev: [0, MS.NODEV], noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC], sync: [MS.SYNCHRONOUS, 0],
  async: [0, MS.SYNCHRONOUS], remount: [MS.REMOUNT, 0], mand: [MS.MANDLOCK, 0], nomand: [0, MS.MANDLOCK],
  dirsync: [MS.DIRSYNC, 0], noatime: [MS.NOATIME, 0], atime: [0, MS.NOATIME], nodiratime: [MS.NODIRATIME, 0],
  diratime: [0, MS.NODIRATIME], bind: [MS.BIND, 0], rbind: [MS.BIND | MS.REC, 0], relatime: [MS.RELATIME, 0],
  norelatime: [0, MS.RELATIME], strictatime: [MS.STRICTATIME, 0], nostrictatime: [0, MS.STRICTATIME],
  silent: [MS.SILENT, 0], loud: [0, MS.SILENT],
};

const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** CLONE_NEW* by the spec's namespace type. */
export const NAMESPACES: Readonly<Record<string, number>> = {
  pid: 0x20000000, network: 0x40000000, mount: 0x00020000, ipc: 0x08000000, uts: 0x04000000, cgroup: 0x02000000,
  user: 0x10000000,
};

const RLIMITS = [
  'CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING',
  'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME',
];

/** The spec's default devices, made in every container whose /dev is not bound from the host. */
const DEFAULT_DEVICES: DeviceNode[] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
].map(([name, major, minor]) => ({ path: `/dev/${name}`, type: 'c', major: major as number, minor: minor as number, mode: 0o666 }));

/** The largest rlimit passed exactly; the addon reads it as RLIM_INFINITY (2^64-1 is not a JavaScript integer). */
const RLIM_INFINITY_MARK = Number.MAX_SAFE_INTEGER;

function bad(where: string, problem: string): never {
  throw new UsageError(`config.json: ${where}: ${problem}`);
}

export function readSpec(bundle: string): Spec {
  const path = join(bundle, 'config.json');
  let spec: Spec;
  try {
    spec = JSON.parse(readFileSync(path, 'utf8')) as Spec;
  } catch (cause) {
    throw new UsageError(`cannot read ${path}: ${(cause as Error).message}`);
  }
  if (typeof spec !== 'object' || spec === null || typeof spec.ociVersion !== 'string') bad('ociVersion', 'missing');
  if (!/^1\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(spec.ociVersion)) bad('ociVersion', `"${spec.ociVersion}" is not a 1.x version`);
  return spec;
}

function capabilityNumbers(names: readonly string[] | undefined, where: string): number[] {
  return (names ?? []).map((name, i) => {
    const number = CAPABILITIES[name.replace(/^CAP_/, '')];
    if (number === undefined) bad(`${where}[${i}]`, `unknown capability "${name}"`);
    return number;
  });
}

/** An existing file in the root without following a symlink out of it: PATH lookup for a process's args[0]. */
export function existsInRoot(root: string, path: string): boolean {
  try {
    lstatSync(join(root, path));
    return true;
  } catch {
    return false;
  }
}

export function execPath(root: string, args: readonly string[], env: readonly string[]): string {
  const command = args[0]!;
  if (command.includes('/')) return command;
  const path = env.find((entry) => entry.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  const dir = path.split(':').find((candidate) => candidate.startsWith('/') && existsInRoot(root, posix.join(candidate, command)));
  if (dir === undefined) bad('process.args[0]', `executable file "${command}" not found in $PATH`);
  return posix.join(dir, command);
}

function mountsOf(spec: Spec, bundle: string, cgroupV2: boolean): OciSpawnOptions['mounts'] {
  return (spec.mounts ?? []).map((mount, i) => {
    const where = `mounts[${i}]`;
    if (typeof mount.destination !== 'string' || !mount.destination.startsWith('/')) bad(`${where}.destination`, 'must be an absolute path');
    let flags = 0;
    let propagation = 0;
    const data: string[] = [];
    for (const option of mount.options ?? []) {
      const flag = FLAG_OPTIONS[option];
      if (flag !== undefined) flags = (flags | flag[0]) & ~flag[1];
      else if (PROPAGATION[option] !== undefined) propagation = PROPAGATION[option];
      else data.push(option);
    }
    let type = mount.type ?? '';
    let source = mount.source ?? '';
    if (type === 'bind') flags |= MS.BIND;
    // cgroup v1 has one hierarchy per controller: the host's tree is bound, read-only as asked (runc mounts each
    // controller's subtree instead). On v2 the container's cgroup namespace shows its own.
    if (type === 'cgroup' && !cgroupV2) {
      [type, source, flags] = ['bind', '/sys/fs/cgroup', flags | MS.BIND | MS.REC];
      data.length = 0;
    } else if (type === 'cgroup') type = 'cgroup2';
    if ((flags & MS.BIND) !== 0 && !isAbsolute(source)) source = resolve(bundle, source);
    return { source, target: posix.normalize(mount.destination), type, flags, propagation, data: data.join(',') };
  });
}

/** What `create` needs from the spec: the addon's options (less the fifo and fds), the limits, the hooks. */
export interface Plan {
  options: Omit<OciSpawnOptions, 'execFifo' | 'preserveFds' | 'consoleSocket' | 'helper' | 'cgroup'>;
  limits: Limits;
  terminal: boolean;
  /** process.oomScoreAdj, written to /proc/PID/oom_score_adj before the release; null: inherited. */
  oomScoreAdj: number | null;
  /** A new user namespace's /proc/PID/uid_map and gid_map text, written before the release; null: none made. */
  idMappings: { uid: string; gid: string } | null;
}

/** linux.uidMappings or gidMappings as /proc/PID/uid_map's lines ("inside outside count"); a new user namespace needs them. */
function idMap(mappings: IdMapping[] | undefined, where: string): string {
  if (!Array.isArray(mappings) || mappings.length === 0) bad(where, 'a new user namespace needs mappings');
  if (mappings.length > 340) bad(where, 'at most 340 mappings');
  const id = (value: unknown, at: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) bad(at, 'must be an id (0 to 2^32-1)');
    return value;
  };
  return mappings.map((mapping, i) => {
    const inside = id(mapping.containerID, `${where}[${i}].containerID`);
    const outside = id(mapping.hostID, `${where}[${i}].hostID`);
    const size = id(mapping.size, `${where}[${i}].size`);
    if (size === 0) bad(`${where}[${i}].size`, 'must be at least 1');
    return `${inside} ${outside} ${size}\n`;
  }).join('');
}

export function planContainer(spec: Spec, bundle: string, cgroupV2: boolean): Plan {
  const process = spec.process ?? bad('process', 'missing');
  if (!Array.isArray(process.args) || process.args.length === 0) bad('process.args', 'must name the program to run');
  if (typeof process.cwd !== 'string' || !process.cwd.startsWith('/')) bad('process.cwd', 'must be an absolute path');
  const rootPath = spec.root?.path ?? bad('root.path', 'missing');
  const root = resolve(bundle, rootPath);
  const env = process.env ?? [];
  const linux = spec.linux ?? {};

  let cloneFlags = 0;
  const join: OciSpawnOptions['join'] = [];
  for (const [i, namespace] of (linux.namespaces ?? []).entries()) {
    const type = NAMESPACES[namespace.type] ?? bad(`linux.namespaces[${i}].type`, `unknown namespace "${namespace.type}"`);
    // A mount namespace joined by path is the container's: its mounts and pivot_root happen there, as with runc
    // (the addon refuses the caller's own and pid 1's).
    if (namespace.path !== undefined && namespace.path !== '') join.push({ type, path: namespace.path });
    else cloneFlags |= type;
  }

  const ownMounts = (cloneFlags & NAMESPACES.mount!) !== 0 || join.some((entry) => entry.type === NAMESPACES.mount);
  if (!ownMounts) bad('linux.namespaces', 'a "mount" namespace, new or joined by path, is required (minictr-oci always uses pivot_root)');
  const newUser = (cloneFlags & NAMESPACES.user!) !== 0;
  const userNamespace = newUser || join.some((entry) => entry.type === NAMESPACES.user);
  const idMappings = newUser
    ? { uid: idMap(linux.uidMappings, 'linux.uidMappings'), gid: idMap(linux.gidMappings, 'linux.gidMappings') }
    : null;
  const mounts = mountsOf(spec, bundle, cgroupV2);
  const devBound = mounts.some((mount) => mount.target === '/dev' && (mount.flags & MS.BIND) !== 0);
  let devices: DeviceNode[] = devBound ? [] : [...DEFAULT_DEVICES];
  for (const [i, device] of (linux.devices ?? []).entries()) {
    if (!['c', 'b', 'u', 'p'].includes(device.type)) bad(`linux.devices[${i}].type`, `"${device.type}" is not a device type (c, b, u or p)`);
    if (!device.path?.startsWith('/dev/')) bad(`linux.devices[${i}].path`, 'must be under /dev/');
    const node: DeviceNode = {
      path: posix.normalize(device.path), type: device.type === 'u' ? 'c' : device.type as 'c' | 'b' | 'p',
      major: device.major ?? 0, minor: device.minor ?? 0, mode: (device.fileMode ?? 0o666) & 0o7777,
    };
    const existing = devices.findIndex((entry) => entry.path === node.path);
    if (existing >= 0) devices.splice(existing, 1);
    devices.push(node);
  }

  // In a user namespace the kernel refuses mknod of a device: the host's node of the same path is bound instead,
  // after config.json's mounts (as runc does). A FIFO is still made.
  if (userNamespace) {
    for (const device of devices.filter((node) => node.type !== 'p')) {
      mounts.push({ source: device.path, target: device.path, type: 'bind', flags: MS.BIND, propagation: 0, data: '' });
    }
    devices = devices.filter((node) => node.type === 'p');
  }

  const caps = process.capabilities ?? {};
  const rlimits = (process.rlimits ?? []).map((limit, i) => {
    const resource = RLIMITS.indexOf(limit.type.replace(/^RLIMIT_/, ''));
    if (resource < 0) bad(`process.rlimits[${i}].type`, `unknown rlimit "${limit.type}"`);
    return { resource, soft: Math.min(limit.soft, RLIM_INFINITY_MARK), hard: Math.min(limit.hard, RLIM_INFINITY_MARK) };
  });
  const sysctl = Object.entries(linux.sysctl ?? {}).map(([key, value]) => {
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(key) || key.split(/[./]/).includes('..')) bad(`linux.sysctl["${key}"]`, 'not a sysctl name');
    return { path: `/proc/sys/${key.replace(/\./g, '/')}`, value: String(value) };
  });
  const propagationName = linux.rootfsPropagation ?? 'rprivate';
  const rootPropagation = PROPAGATION[propagationName] ?? bad('linux.rootfsPropagation', `unknown "${propagationName}"`);

  const resources = linux.resources ?? {};
  const quota = resources.cpu?.quota;
  const limits: Limits = {
    memory: resources.memory?.limit ?? null,
    memorySwap: resources.memory?.swap ?? null,
    cpus: quota !== undefined && quota > 0 ? quota / (resources.cpu?.period ?? 100_000) : null,
    pidsLimit: resources.pids?.limit !== undefined && resources.pids.limit > 0 ? resources.pids.limit : null,
  };

  return {
    options: {
      hostname: spec.hostname ?? '',
      devices,
      devLinks: !devBound,
      workdir: process.cwd,
      readOnly: spec.root?.readonly === true,
      user: process.user === undefined ? null : {
        uid: process.user.uid, gid: process.user.gid, additionalGids: process.user.additionalGids ?? [],
      },
      execPath: execPath(root, process.args, env),
      argv: process.args.map((arg) => Buffer.from(arg)),
      env: env.map((entry) => Buffer.from(entry)),
      consoleSize: { rows: process.consoleSize?.height ?? 0, columns: process.consoleSize?.width ?? 0 },
      root,
      rootPropagation,
      cloneFlags,
      join,
      mounts,
      capabilities: {
        bounding: capabilityNumbers(caps.bounding, 'process.capabilities.bounding'),
        effective: capabilityNumbers(caps.effective, 'process.capabilities.effective'),
        permitted: capabilityNumbers(caps.permitted, 'process.capabilities.permitted'),
        inheritable: capabilityNumbers(caps.inheritable, 'process.capabilities.inheritable'),
        ambient: capabilityNumbers(caps.ambient, 'process.capabilities.ambient'),
      },
      noNewPrivileges: process.noNewPrivileges === true,
      maskedPaths: linux.maskedPaths ?? [],
      readonlyPaths: linux.readonlyPaths ?? [],
      sysctl,
      rlimits,
      seccomp: linux.seccomp === undefined ? Buffer.alloc(0) : compileSeccomp(linux.seccomp as SeccompProfile),
    },
    limits,
    terminal: process.terminal === true,
    oomScoreAdj: process.oomScoreAdj ?? null,
    idMappings,
  };
}
