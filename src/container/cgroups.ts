// Resource limits through cgroups (--memory, --memory-swap, --cpus, --pids-limit), and the device policy of every
// container that is not --privileged (src/bpf/device-filter.ts).
//
// The cgroup is created and configured before clone(), and the container's first process is in it before "go", so
// the command never runs unlimited or with the host's devices. It gets there without minictr writing its pid into
// cgroup.procs, which takes the kernel's cgroup_threadgroup_rwsem for writing and so waits for an RCU grace period
// (10-15 ms on every run): on v2 it is cloned into the directory (clone3's CLONE_INTO_CGROUP, which takes only the
// read side, as any fork does); on v1 it writes "0" into each directory's `tasks` file itself, moving one thread,
// which the kernel does without that lock (openCgroupEntry; native/src/child.h).
//
// On cgroup v2 (/sys/fs/cgroup is cgroup2) that is one directory, /sys/fs/cgroup/minictr/<id>, with a BPF_CGROUP_DEVICE program attached (as runc and crun do; v2 has no devices
// files). On v1 and hybrid hosts (these machines) it is one directory per controller (memory, cpu, pids, devices),
// under the cgroup minictr itself is in, so the limits of whatever runs minictr still apply; the devices directory
// denies everything, then allows the policy's rules. The directories are journaled before they are made, and
// removed (rmdir) once the container's processes are gone. Parsing is pure; the rest touches only the directories
// named in the plan.

import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  allowLine,
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  deviceFilterProgram,
  type DeviceRule,
} from '../bpf/device-filter.js';
import { stepError, UsageError } from '../errors.js';
import { parseDecimal, parseSize, parseWhole } from '../sys/numbers.js';
import { nativeAddon, type CgroupEntry } from '../native/index.js';

export interface Limits {
  /** Bytes. */
  memory: number | null;
  /** Memory plus swap, in bytes; -1: unlimited swap. Docker's default with --memory: twice the memory. */
  memorySwap: number | null;
  /** CPUs, fractional. */
  cpus: number | null;
  pidsLimit: number | null;
}

const CFS_PERIOD_US = 100_000;
/** 8 PiB: far beyond any machine, exact as a JavaScript number, and taken by the kernel (twice, for memory+swap). */
const MAX_BYTES = 2 ** 53;
/** The kernel's PID_MAX_LIMIT: pids.max takes no more. */
const MAX_PIDS = 4 * 1024 * 1024;

function parseBytes(text: string, flag: string): number {
  const bytes = parseSize(text);
  if (bytes === null || bytes < 6 * 1024 * 1024 || bytes > MAX_BYTES) {
    throw new UsageError(`invalid ${flag} "${text}": a size from 6m to ${MAX_BYTES / 1024 ** 3}g, such as 64m or 1g`);
  }
  return bytes;
}

export function parseLimits(flags: { memory?: string; memorySwap?: string; cpus?: string; pidsLimit?: string }): Limits {
  const memory = flags.memory === undefined ? null : parseBytes(flags.memory, '--memory');
  let memorySwap: number | null = null;
  if (flags.memorySwap !== undefined) {
    if (memory === null) throw new UsageError('--memory-swap needs --memory');
    memorySwap = flags.memorySwap === '-1' ? -1 : parseBytes(flags.memorySwap, '--memory-swap');
    if (memorySwap !== -1 && memorySwap < memory) throw new UsageError('--memory-swap must be at least --memory (it counts both)');
  }
  // Malformed reads as NaN, which no range holds.
  const cpus = flags.cpus === undefined ? null : parseDecimal(flags.cpus) ?? NaN;
  if (cpus !== null && !(cpus >= 0.01 && cpus <= 1024)) throw new UsageError(`invalid --cpus "${flags.cpus}": a number from 0.01 to 1024, such as 0.5 or 2`);
  const pidsLimit = flags.pidsLimit === undefined ? null : parseWhole(flags.pidsLimit) ?? NaN;
  if (pidsLimit !== null && !(pidsLimit >= 1 && pidsLimit <= MAX_PIDS)) {
    throw new UsageError(`invalid --pids-limit "${flags.pidsLimit}": a whole number of processes from 1 to ${MAX_PIDS}`);
  }
  return { memory, memorySwap, cpus, pidsLimit };
}

export function hasLimits(limits: Limits): boolean {
  return limits.memory !== null || limits.cpus !== null || limits.pidsLimit !== null;
}

/** One cgroup directory and the files to write in it, in order. */
export interface CgroupDir {
  dir: string;
  files: [string, string][];
  /** Files in the parents that must list the controllers first (cgroup v2 only). */
  enable: [string, string][];
  /** cgroup v2: the rules of the BPF_CGROUP_DEVICE program to attach; null: none. */
  devices: DeviceRule[] | null;
}

const ROOT = '/sys/fs/cgroup';

/** Whether the host runs the unified hierarchy (cgroup v2) rather than v1's one per controller. */
export function cgroupV2(): boolean {
  return existsSync(join(ROOT, 'cgroup.controllers'));
}

/** Where minictr's own process sits in a v1 hierarchy, from /proc/self/cgroup. */
function ownV1Path(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

/** The cgroup directories a container with `limits` and the device policy `devices` (null: none) needs. */
export function planCgroups(id: string, limits: Limits, devices: DeviceRule[] | null): CgroupDir[] {
  const memorySwap = limits.memory === null ? null : limits.memorySwap ?? 2 * limits.memory;
  if (cgroupV2()) {
    const parent = join(ROOT, 'minictr');
    const files: [string, string][] = [];
    if (limits.memory !== null) files.push(['memory.max', String(limits.memory)]);
    if (limits.memory !== null && memorySwap !== null) {
      files.push(['memory.swap.max', memorySwap === -1 ? 'max' : String(memorySwap - limits.memory)]);
    }
    if (limits.cpus !== null) files.push(['cpu.max', `${Math.round(limits.cpus * CFS_PERIOD_US)} ${CFS_PERIOD_US}`]);
    if (limits.pidsLimit !== null) files.push(['pids.max', String(limits.pidsLimit)]);
    if (files.length === 0 && devices === null) return [];
    const controllers = '+memory +cpu +pids';
    const enable: [string, string][] = hasLimits(limits)
      ? [[join(ROOT, 'cgroup.subtree_control'), controllers], [join(parent, 'cgroup.subtree_control'), controllers]]
      : [];
    return [{ dir: join(parent, id), files, enable, devices }];
  }
  const dirs: CgroupDir[] = [];
  const v1 = (controller: string, files: [string, string][]) =>
    dirs.push({ dir: join(ROOT, controller, ownV1Path(controller), 'minictr', id), files, enable: [], devices: null });
  if (limits.memory !== null) {
    const files: [string, string][] = [['memory.limit_in_bytes', String(limits.memory)]];
    if (existsSync(join(ROOT, 'memory', 'memory.memsw.limit_in_bytes'))) {
      files.push(['memory.memsw.limit_in_bytes', String(memorySwap)]);
    }
    v1('memory', files);
  }
  if (limits.cpus !== null) {
    v1('cpu', [['cpu.cfs_period_us', String(CFS_PERIOD_US)], ['cpu.cfs_quota_us', String(Math.round(limits.cpus * CFS_PERIOD_US))]]);
  }
  if (limits.pidsLimit !== null) v1('pids', [['pids.max', String(limits.pidsLimit)]]);
  // One rule per write: devices.allow takes a single line.
  if (devices !== null) v1('devices', [['devices.deny', 'a'], ...devices.map((rule): [string, string] => ['devices.allow', allowLine(rule)])]);
  return dirs;
}

/** Attaches the device policy's program to the cgroup at `dir`. */
async function attachDeviceFilter(dir: string, rules: readonly DeviceRule[]): Promise<void> {
  const addon = nativeAddon();
  const program = addon.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilterProgram(rules), 'GPL', 'minictr_devices', BPF_CGROUP_DEVICE);
  try {
    const cgroup = openSync(dir, 'r');
    try {
      await addon.bpfProgAttach(cgroup, program, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    } finally {
      closeSync(cgroup);
    }
  } finally {
    closeSync(program); // the attachment holds the program
  }
}

/**
 * Writes `files` into `dir` in order, each value in one write(2) (devices.allow takes one rule per write), through
 * one open of a file for the values that follow each other: v1's device policy is a dozen devices.allow rules.
 */
function writeCgroupFiles(dir: string, files: readonly [string, string][]): void {
  for (let i = 0; i < files.length; ) {
    const path = join(dir, files[i]![0]);
    const fd = openSync(path, 'w');
    try {
      for (const name = files[i]![0]; i < files.length && files[i]![0] === name; i++) {
        const value = files[i]![1];
        if (writeSync(fd, value) !== Buffer.byteLength(value)) throw new Error(`short write of "${value}" to ${path}`);
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Makes the directories, writes the limits and the v1 device rules, attaches the v2 device program. */
export async function createCgroups(dirs: readonly CgroupDir[]): Promise<void> {
  for (const { dir, files, enable, devices } of dirs) {
    for (const [path, value] of enable) {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, value);
    }
    mkdirSync(dir, { recursive: true });
    writeCgroupFiles(dir, files);
    if (devices !== null) await attachDeviceFilter(dir, devices);
  }
}

/** v1: the file a process writes "0" into to move itself (one thread) into the cgroup at `dir`. */
export function tasksFile(dir: string): string {
  return join(dir, 'tasks');
}

/**
 * Opens what a process spawned next enters `dirs` by (close-on-exec, as Node opens every file): on v2 the one
 * directory, for clone3(CLONE_INTO_CGROUP); on v1 each directory's `tasks` file, which the child writes "0" into
 * before it waits for its release. null for no directories. See spawnWithCgroup.
 */
export function openCgroupEntry(dirs: readonly string[]): CgroupEntry | null {
  if (dirs.length === 0) return null;
  if (cgroupV2()) return openDirectory(dirs);
  const tasks: number[] = [];
  try {
    for (const dir of dirs) tasks.push(openNamed(tasksFile(dir), constants.O_WRONLY));
  } catch (cause) {
    for (const fd of tasks) closeSync(fd);
    throw cause;
  }
  return { tasks };
}

/**
 * `exec`'s way into the container's cgroups `dirs`: on v2 its joiner is cloned into the directory (`open`, for
 * spawnWithCgroup); on v1 the joiner writes "0" into the `tasks` files of `requested`, which its request names
 * (join-request.ts).
 */
export function execCgroups(dirs: readonly string[]): { requested: readonly string[]; open: () => { directory: number } | null } {
  if (dirs.length === 0 || !cgroupV2()) return { requested: dirs, open: () => null };
  return { requested: [], open: () => openDirectory(dirs) };
}

/** The name a spawn's error gives clone3 when the kernel refused the cgroup it was to clone into (native/src/spawn.h). */
export const CLONE_INTO_CGROUP_CALL = "clone3 into the container's cgroup (CLONE_INTO_CGROUP)";

/**
 * Calls `spawn` with the entry `open` gives (openCgroupEntry, or execCgroups' open), which is closed once spawn
 * returns: the child has its own copies.
 */
export function spawnWithCgroup<E extends CgroupEntry, T>(open: () => E | null, spawn: (entry: E | null) => T): T {
  const entry = open();
  try {
    return spawn(entry);
  } finally {
    if (entry !== null) for (const fd of 'tasks' in entry ? entry.tasks : [entry.directory]) closeSync(fd);
  }
}

/** v2: the one directory (planCgroups makes one), for CLONE_INTO_CGROUP. */
function openDirectory(dirs: readonly string[]): { directory: number } {
  return { directory: openNamed(dirs[0]!, constants.O_RDONLY | constants.O_DIRECTORY) };
}

function openNamed(path: string, flags: number): number {
  try {
    return openSync(path, flags);
  } catch (cause) {
    throw stepError("open the container's cgroup", path, cause);
  }
}


/** Removes the directories; absent counts as removed. Retries briefly while the last processes finish exiting. */
export async function removeCgroups(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt >= 100) throw cause;
        await sleep(10);
      }
    }
  }
}

/** Removes the shared parents (…/minictr) that are empty; one still holding a container's cgroup stays. */
export function removeCgroupParents(): void {
  const parents = cgroupV2()
    ? [join(ROOT, 'minictr')]
    : ['memory', 'cpu', 'pids', 'devices'].map((controller) => join(ROOT, controller, ownV1Path(controller), 'minictr'));
  for (const parent of parents) {
    try {
      rmdirSync(parent);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw cause;
    }
  }
}
