// The runc verbs that change a container: create (clone it from the bundle, blocked before its program), start
// (release it through exec.fifo), kill and delete. Each is one numbered procedure over the state directory
// (state.ts) and the same library as `minictr run`: the addon's clone and child steps, cgroups.ts for limits.

import { closeSync, constants, mkdirSync, openSync, readSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupV2, createCgroups, openCgroupEntry, planCgroups, removeCgroups, spawnWithCgroup, type CgroupDir } from '../container/cgroups.js';
import { MinictrError } from '../errors.js';
import { warn } from '../log.js';
import { helperPath, nativeAddon, type ChildFailure } from '../native/index.js';
import { planContainer, readSpec } from './config.js';
import { runHooks } from './hooks.js';
import { allowDevices, planV1 } from './resources.js';
import { alive, containerDir, fifoPath, ociState, processStat, readRecord, statusOf, writeRecord, type Record } from './state.js';

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
}

/**
 * linux.cgroupsPath on a cgroup v2 host: where planCgroups' directory goes instead of minictr's own place. An
 * absolute path is taken under the mount point (/sys/fs/cgroup/PATH), a relative one under minictr's place.
 */
function placeCgroups(dirs: CgroupDir[], cgroupsPath: string | undefined): CgroupDir[] {
  if (cgroupsPath === undefined || cgroupsPath === '') return dirs;
  return dirs.map((cgroup) => {
    const parts = cgroup.dir.split('/');
    const base = cgroupsPath.startsWith('/') ? '/sys/fs/cgroup' : parts.slice(0, -1).join('/');
    return { ...cgroup, dir: join(base, cgroupsPath) };
  });
}

/**
 * A new user namespace's maps, written while its child waits for the release (each file in one write, as the kernel
 * requires). setgroups is set to "deny" only where the kernel asks for it, a caller without CAP_SETGID over the
 * parent namespace: the container could not then call setgroups.
 */
function writeIdMaps(pid: number, maps: { uid: string; gid: string }): void {
  const write = (name: string, text: string, denyFirst: boolean) => {
    try {
      writeFileSync(`/proc/${pid}/${name}`, text);
    } catch (cause) {
      if (denyFirst && (cause as NodeJS.ErrnoException).code === 'EPERM') {
        write('setgroups', 'deny', false);
        write(name, text, false);
        return;
      }
      throw new MinictrError(`write /proc/${pid}/${name} (from linux.uidMappings, gidMappings): ${(cause as Error).message}`, 'failure', cause);
    }
  };
  write('uid_map', maps.uid, false);
  write('gid_map', maps.gid, true);
}

/** A step of the container's child that failed; its cgroups named where joining them failed. */
function childFailureError(id: string, cgroups: readonly string[], failure: ChildFailure): MinictrError {
  const object = failure.step === "join the container's cgroup" ? ` ${cgroups.join(', ')}` : '';
  return new MinictrError(`container "${id}": ${failure.step}${object}: ${failure.message}`);
}

export async function create(root: string, id: string, options: CreateOptions): Promise<void> {
  // 1. The bundle's config, checked whole before anything is made.
  const bundle = resolve(options.bundle);
  const spec = readSpec(bundle);
  const plan = planContainer(spec, bundle, cgroupV2());
  if (plan.terminal && options.consoleSocket === undefined) throw new MinictrError('process.terminal is set: --console-socket is required');

  // 2. The state directory and its FIFO; an id in use is refused (mkdir without recursive).
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const dir = containerDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') throw new MinictrError(`container "${id}" already exists`);
    throw cause;
  }
  let dirs: string[] = [];
  try {
    execFileSync('mkfifo', ['-m', '0622', fifoPath(root, id)]);
    // 3. cgroups for linux.resources, then the clone (blocked on its release pipe), into them: cloned into the
    //    directory (v2) or joining them itself before it waits (v1; see cgroups.ts).
    const cgroups = cgroupV2()
      ? placeCgroups(planCgroups(`oci-${id}`, plan.limits, null), spec.linux?.cgroupsPath)
      : planV1(id, allowDevices(spec.linux?.resources ?? {}, spec.linux?.devices ?? []), spec.linux?.cgroupsPath);
    dirs = cgroups.map((cgroup) => cgroup.dir);
    await createCgroups(cgroups);
    const addon = nativeAddon();
    const child = spawnWithCgroup(
      () => openCgroupEntry(dirs),
      (cgroup) =>
        addon.spawnOci({
          ...plan.options,
          helper: helperPath('minictr-init'),
          consoleSocket: options.consoleSocket ?? '',
          execFifo: fifoPath(root, id),
          preserveFds: options.preserveFds,
          cgroup,
        }),
    );
    const record: Record = {
      id, pid: child.pid, startTime: processStat(child.pid)?.startTime ?? 0, bundle,
      created: new Date().toISOString(), annotations: spec.annotations ?? {}, cgroups: dirs, hooks: spec.hooks ?? {},
    };
    writeRecord(root, record);
    try {
      if (plan.idMappings !== null) writeIdMaps(child.pid, plan.idMappings);
      if (plan.oomScoreAdj !== null) writeFileSync(`/proc/${child.pid}/oom_score_adj`, String(plan.oomScoreAdj));
      // 4. prestart and createRuntime hooks see the process, then the child builds the container and reports ready.
      await runHooks('prestart', spec.hooks?.prestart, ociState(root, record, 'created'));
      await runHooks('createRuntime', spec.hooks?.createRuntime, ociState(root, record, 'created'));
    } catch (cause) {
      // A child that failed on its own first (its cgroup) is gone: its failure is the cause.
      const failure = addon.abort(child.releaseFd, child.errorFd);
      throw failure === null ? cause : childFailureError(id, dirs, failure);
    }
    const failure = await addon.release(child.releaseFd, child.errorFd);
    if (failure !== null) throw childFailureError(id, dirs, failure);
    if (options.pidFile !== undefined) writeFileSync(options.pidFile, String(child.pid));
  } catch (cause) {
    // The cgroups are removed from the plan, not the record: a failure may come before the record is written.
    await removeCgroups(dirs);
    rmSync(dir, { recursive: true, force: true });
    throw cause;
  }
}

/** Reads the one byte the container writes to exec.fifo once it opened it: it then goes on to exec. */
export async function start(root: string, id: string): Promise<void> {
  const record = readRecord(root, id);
  const status = statusOf(root, record);
  if (status !== 'created') throw new MinictrError(`container "${id}" is ${status}, not created: cannot start it`);
  const fifo = openSync(fifoPath(root, id), constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const byte = Buffer.alloc(1);
    for (let attempt = 0; ; attempt++) {
      let got = 0;
      try {
        got = readSync(fifo, byte, 0, 1, null);
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'EAGAIN') throw cause;
      }
      if (got === 1) break;
      if (!alive(record)) throw new MinictrError(`container "${id}" exited before it started`);
      if (attempt > 1000) throw new MinictrError(`container "${id}" did not open exec.fifo within 10 s`);
      await sleep(10);
    }
  } finally {
    closeSync(fifo);
    unlinkSync(fifoPath(root, id));
  }
  await runHooks('poststart', record.hooks.poststart, ociState(root, record, 'running'));
}

export const SIGNALS: Readonly<{ [name: string]: number }> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23,
  XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};

export function parseSignal(text: string): number {
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= 64) return Number(text);
  const number = SIGNALS[text.toUpperCase().replace(/^SIG/, '')];
  if (number === undefined) throw new MinictrError(`unknown signal "${text}"`);
  return number;
}

/** The pids in the container's cgroups, or its own pid where it has none (--all). */
export function containerPids(record: Record): number[] {
  const pids = new Set<number>();
  for (const dir of record.cgroups) {
    try {
      for (const line of readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n')) if (line !== '') pids.add(Number(line));
    } catch {
      // a removed cgroup holds no process
    }
  }
  if (alive(record)) pids.add(record.pid);
  return [...pids];
}

export function kill(root: string, id: string, signal: number, all: boolean): void {
  const record = readRecord(root, id);
  const status = statusOf(root, record);
  if (status === 'stopped' && !all) throw new MinictrError(`container "${id}": container not running`);
  if (!all) {
    nativeAddon().signalProcess(record.pid, record.startTime, signal);
    return;
  }
  for (const pid of containerPids(record)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

async function removeState(root: string, id: string): Promise<void> {
  let record: Record | undefined;
  try {
    record = readRecord(root, id);
  } catch {
    record = undefined;
  }
  if (record !== undefined) await removeCgroups(record.cgroups);
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export async function remove(root: string, id: string, force: boolean): Promise<void> {
  const record = readRecord(root, id);
  const status = statusOf(root, record);
  if (status !== 'stopped' && !force) throw new MinictrError(`container "${id}" is ${status}: stop it first or use --force`);
  if (status !== 'stopped') {
    for (const pid of containerPids(record)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    for (let attempt = 0; alive(record) && attempt < 500; attempt++) await sleep(10);
  }
  await removeState(root, id);
  try {
    await runHooks('poststop', record.hooks.poststop, ociState(root, record, 'stopped'));
  } catch (cause) {
    warn((cause as Error).message);
  }
}
