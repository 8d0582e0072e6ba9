// On-disk state of containers, the record every teardown and gc works from.
//
// Layout under /run/minictr (a tmpfs: a reboot clears it together with every kernel object it describes):
//
//   containers/<id>/state.json   what the container is, its status and who owns it (created before any host object;
//                                replaced whole, temp file + rename, at each change of status or owner)
//   containers/<id>/journal      one JSON line per host object, appended *before* the object is created; once the
//                                container has exited and been torn down it lists only what it still holds (its name)
//   containers/<id>/container.log  -d: the output, one CRI-format record per line, written by minictr-monitor, which
//                                rotates it to container.log.1, .2, … (log-options.ts)
//   containers/<id>/exit.json    how PID 1 ended, written by whichever process reaped it (-d: minictr-monitor)
//   containers/<id>/.reserve-*   space set aside so that the writes after the start succeed on a full file system
//                                (sys/reserved-space.ts); released once the container has exited
//   containers/<id>/merged       the overlay's mount point, mounted only inside the container's own mount namespace
//   leases/<address>             address leases (network/ipam.ts)
//   names/<name>                 --name reservations, holding the id
//   ports/<protocol>-<port>      published host ports, holding the id (network/ports.ts)
//   ip_forward.orig              ip_forward before minictr first set it (network/bridge.ts)
//
// and under /var/lib/minictr, on disk, what may be too large for a tmpfs:
//
//   containers/<id>/upper, work  the overlay's writable layer and its work dir: journaled, made after the record and
//                                removed at the container's exit (nothing in minictr reads an exited container's
//                                files: there is no start, diff or commit; cp needs a running one), or by gc, which
//                                also removes any that no live container accounts for (after a reboot, say)
//
// A container directory appears atomically: it is built as containers/.new-<owner pid>-<owner start>-<id> and
// renamed into place, so a directory under its final name always has a complete state.json, and a half-built one
// names its owner in its own name. gc can thus tell, without reading a file being written, whether the process
// responsible for any directory is still alive.

import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import type { ExitStatus, SpawnOptions } from '../native/index.js';
import { dirname, join } from 'node:path';
import { messageOf, MinictrError, stepError } from '../errors.js';
import type { PortMapping } from '../network/ports.js';
import { PATHS, type StatePaths } from '../paths.js';
import { isAlive, selfRef, type ProcessRef } from '../sys/proc.js';
import { releaseReserves, replaceFile, replaceFromReserve, reservePath, reserveSpace, writeFileNamed } from '../sys/reserved-space.js';
import { isoTimestamp } from '../sys/timestamp.js';
import type { LogOptions } from './log-options.js';
import type { ContainerMount } from './mounts.js';

const BUILDING_PREFIX = '.new-';
const COLLECTING_PREFIX = '.gc-';
const REMOVING_PREFIX = '.rm-';

/** A host object, as recorded in the journal before it is created. */
export type JournalEntry =
  | { kind: 'name'; name: string }
  /** An address on the default network, or on the user-defined `network` (with the container's DNS record). */
  | { kind: 'lease'; address: string; network?: string }
  | { kind: 'ports'; address: string; mappings: PortMapping[]; ipv6?: { bridge: string; address: string } }
  | { kind: 'cgroup'; dirs: string[] }
  | { kind: 'process'; pid: number; startTime: number }
  /** minictr-proxy, which serves the published ports on [::1] (network/loopback-proxy.ts). */
  | { kind: 'proxy'; pid: number; startTime: number }
  | { kind: 'veth'; name: string }
  | { kind: 'layer'; dir: string }
  /** An anonymous volume (-v CTR): removed with a container that did not start or ran with --rm; kept, by rm -v. */
  | { kind: 'volume'; name: string };

/** created: being set up; running: PID 1 exec'd; exited: torn down, kept for ps -a and logs until rm. */
export type ContainerStatus = 'created' | 'running' | 'exited';

export interface ContainerRecord {
  id: string;
  name: string | null;
  /**
   * The process that must tear the container down: the minictr that runs it, or for -d, once set up, its
   * minictr-monitor (whose teardown command keeps its pid). gc acts only once it is gone. null once exited.
   */
  owner: ProcessRef | null;
  createdAt: string;
  argv: string[];
  network: string;
  /** What `minictr exec` needs to start a process as the container's own: environment, directory, profile. */
  config: {
    rootfs: string;
    /** The image, when the container runs one (absent in records written before images). */
    image?: { name: string; id: string } | null;
    hostname: string;
    env: string[];
    workdir: string;
    security: SpawnOptions['security'];
    /** What `stop` sends first (the image's StopSignal or --stop-signal); absent or null: SIGTERM. */
    stopSignal?: string | null;
    /** -v, --mount, --tmpfs (absent in records written before volumes). */
    mounts?: ContainerMount[];
  };
  detached: boolean;
  /** --rm: removed, not kept as exited, when it ends. */
  autoRemove: boolean;
  /** -d: how minictr-monitor rotates container.log (--log-opt). */
  log: LogOptions;
  status: ContainerStatus;
  startedAt: string | null;
  finishedAt: string | null;
  /** As Docker reports it: PID 1's exit status, or 128 + N when signal N killed it. */
  exitCode: number | null;
}

/** What minictr-monitor writes in exit.json. */
export interface ExitRecord extends ExitStatus {
  finishedAt: string;
}

/** Docker's single number for how a process ended. */
export function exitCodeOf(status: ExitStatus): number | null {
  if (status.exitCode !== null) return status.exitCode;
  return status.signal === null ? null : 128 + status.signal;
}

/**
 * The replacements of a record's files after its container has started, which must succeed on a full file system:
 * the status (running), then at the exit the journal and the status (exited). One reserve file each.
 */
const RESERVED_WRITES = [0, 1, 2];
/** exit.json's own reserve: the monitor writes it too, and must not compete with minictr for the pool. */
const EXIT_RESERVE = 'exit';

/** Reserve files large enough for a record of `length` bytes once it has grown by its later fields. */
function reserveBytes(length: number): number {
  return Math.ceil((length + 1024) / 4096) * 4096;
}

export class ContainerState {
  readonly id: string;
  readonly dir: string;
  private readonly paths: StatePaths;

  constructor(id: string, dir?: string, paths: StatePaths = PATHS) {
    this.id = id;
    this.dir = dir ?? join(paths.containers, id);
    this.paths = paths;
  }

  /**
   * Creates the directory with its record and reserves, all at once (and the shared directories beside it, once).
   * On failure nothing of it is left.
   */
  static create(record: ContainerRecord, paths: StatePaths = PATHS): ContainerState {
    const owner = record.owner!;
    const building = join(paths.containers, `${BUILDING_PREFIX}${owner.pid}-${owner.startTime}-${record.id}`);
    const state = new ContainerState(record.id, undefined, paths);
    try {
      for (const dir of [paths.containers, paths.leases, paths.names, paths.ports]) mkdirSync(dir, { recursive: true });
      mkdirSync(building, { mode: 0o700 });
      mkdirSync(join(building, 'merged'));
      const text = `${JSON.stringify(record, null, 2)}\n`;
      writeFileNamed(join(building, 'state.json'), text);
      reserveSpace(building, RESERVED_WRITES, reserveBytes(Buffer.byteLength(text)));
      reserveSpace(building, [EXIT_RESERVE], 512);
      renameSync(building, state.dir);
    } catch (cause) {
      rmSync(building, { recursive: true, force: true });
      throw new MinictrError(`create container state: ${messageOf(cause)}`, 'failure', cause);
    }
    return state;
  }

  /** The writable layer's directory (upper and work), on disk. */
  get layerDir(): string {
    return join(this.paths.layers, this.id);
  }

  get upperDir(): string {
    return join(this.layerDir, 'upper');
  }

  get workDir(): string {
    return join(this.layerDir, 'work');
  }

  /** What minictr-monitor overwrites and renames to exit.json: space it can count on. */
  get exitReservePath(): string {
    return reservePath(this.dir, EXIT_RESERVE);
  }

  get mergedDir(): string {
    return join(this.dir, 'merged');
  }

  get logPath(): string {
    return join(this.dir, 'container.log');
  }

  get exitPath(): string {
    return join(this.dir, 'exit.json');
  }

  record(): ContainerRecord {
    return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as ContainerRecord;
  }

  update(changes: Partial<ContainerRecord>): ContainerRecord {
    const record = { ...this.record(), ...changes };
    replaceFile(join(this.dir, 'state.json'), `${JSON.stringify(record, null, 2)}\n`);
    return record;
  }

  /** How PID 1 ended, written by whichever process reaped it (minictr, or the monitor of a detached container). */
  writeExitRecord(status: ExitStatus): void {
    replaceFromReserve(this.exitPath, EXIT_RESERVE, `${JSON.stringify({ ...status, finishedAt: isoTimestamp() })}\n`);
  }

  /** exit.json, once PID 1 has been reaped. */
  exitRecord(): ExitRecord | null {
    try {
      return JSON.parse(readFileSync(this.exitPath, 'utf8')) as ExitRecord;
    } catch {
      return null;
    }
  }

  /** Write-ahead: call before creating the object. One line per append, so a crash loses at most a partial line. */
  journal(entry: JournalEntry): void {
    const path = join(this.dir, 'journal');
    try {
      appendFileSync(path, `${JSON.stringify(entry)}\n`);
    } catch (cause) {
      throw stepError('append to', path, cause);
    }
  }

  /**
   * Makes the writable layer's directories (journaled before, as a `layer` entry). The overlay's root takes its
   * owner and mode from the upper directory, so that one gets those of the rootfs's root (`lower`).
   */
  createLayer(lower: string): void {
    try {
      mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
      const root = statSync(lower);
      mkdirSync(this.upperDir);
      chownSync(this.upperDir, root.uid, root.gid);
      chmodSync(this.upperDir, root.mode & 0o7777);
    } catch (cause) {
      throw stepError('create writable layer', this.layerDir, cause);
    }
  }

  /** The record says how it ended (exit.json, or `unknownExitCode` when nobody could reap it); it owns nothing now. */
  markExited(unknownExitCode: number): void {
    const exit = this.exitRecord();
    this.update({
      status: 'exited',
      owner: null,
      finishedAt: exit?.finishedAt ?? isoTimestamp(),
      exitCode: exit === null ? unknownExitCode : exitCodeOf(exit),
    });
    releaseReserves(this.dir);
  }

  /** Replaces the journal with `entries`: what a teardown left (container/journal.ts). */
  rewriteJournal(entries: readonly JournalEntry[]): void {
    replaceFile(join(this.dir, 'journal'), entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  }

  entries(): JournalEntry[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'journal'), 'utf8');
    } catch {
      return [];
    }
    const entries: JournalEntry[] = [];
    for (const line of text.split('\n')) {
      try {
        if (line !== '') entries.push(JSON.parse(line) as JournalEntry);
      } catch {
        // a line cut short by a crash: the object it announced was never created
      }
    }
    return entries;
  }

  /**
   * Removes the directory, renamed out of gc's sight first so gc never sees it half-deleted; false when another
   * process got to it first (then it does the rest, names included).
   */
  remove(): boolean {
    const self = selfRef();
    const tombstone = join(dirname(this.dir), `${REMOVING_PREFIX}${self.pid}-${self.startTime}-${this.id}`);
    try {
      renameSync(this.dir, tombstone);
    } catch {
      return false; // already gone
    }
    rmSync(tombstone, { recursive: true, force: true });
    return true;
  }
}

/** A container directory as listed: what its name and record say (phaseOf tells what they add up to). */
export interface ContainerDir {
  id: string;
  dir: string;
  /** Its state.json; null while half-built or when unreadable. */
  record: ContainerRecord | null;
  /**
   * The process responsible for tearing it down; null when none is (exited, or a record that cannot be read: gc
   * then treats it as dead).
   */
  owner: ProcessRef | null;
  /** Ended and torn down: kept only for ps -a, logs and inspect until rm. */
  exited: boolean;
  /** For a directory gc has claimed (.gc-<pid>-<start>-<id>): that gc process. */
  collector: ProcessRef | null;
  /** A directory whose teardown finished and that is being deleted (.rm-<remover>-<id>). */
  removing: boolean;
  /** The process deleting it, when `removing`. */
  remover: ProcessRef | null;
}

/** A container directory's state.json as it is now; null when unreadable (half-built, or gone). */
export function readRecord(dir: string): ContainerRecord | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ContainerRecord;
  } catch {
    return null;
  }
}

const PROCESS_ID = '(\\d+)-(\\d+)-([0-9a-f]+)';
const BUILDING = new RegExp(`^\\.new-${PROCESS_ID}$`);
const COLLECTING = new RegExp(`^\\.gc-${PROCESS_ID}$`);
const REMOVING = new RegExp(`^\\.rm-${PROCESS_ID}$`);

/**
 * One container directory, by its name: finished, half-built (.new-<owner>-<id>), claimed by a gc
 * (.gc-<collector>-<id>) or being deleted after a complete teardown (.rm-<remover>-<id>). Process references in
 * names are "<pid>-<start time>". `read` false leaves the record unread (null): what the name alone says.
 */
function containerDirOf(paths: StatePaths, name: string, read = true): ContainerDir {
  const dir = join(paths.containers, name);
  const ref = (m: RegExpExecArray) => ({ pid: Number(m[1]), startTime: Number(m[2]) });
  const none = { record: null, owner: null, exited: false, collector: null, removing: false, remover: null };
  const building = BUILDING.exec(name);
  if (building) return { ...none, id: building[3]!, dir, owner: ref(building) };
  const removing = REMOVING.exec(name);
  if (removing) return { ...none, id: removing[3]!, dir, removing: true, remover: ref(removing) };
  const record = read ? readRecord(dir) : null;
  const found = { ...none, dir, record, owner: record?.owner ?? null, exited: record?.status === 'exited' };
  const collecting = COLLECTING.exec(name);
  if (collecting) return { ...found, id: collecting[3]!, collector: ref(collecting) };
  return { ...found, id: name };
}

/** The names under the containers directory; none when it does not exist. */
function containerDirNames(paths: StatePaths): string[] {
  try {
    return readdirSync(paths.containers);
  } catch {
    return [];
  }
}

/**
 * Container directories (see containerDirOf), records read: every one, or with `only`, those of these containers
 * (the others are known by their names alone, and no record of theirs is read).
 */
export function listContainerDirs(paths: StatePaths = PATHS, only?: ReadonlySet<string>): ContainerDir[] {
  const names = containerDirNames(paths);
  if (only === undefined) return names.map((name) => containerDirOf(paths, name));
  return names.filter((name) => only.has(containerDirOf(paths, name, false).id)).map((name) => containerDirOf(paths, name));
}

/** Container `id`'s directory under its final name, record read; null when it has none. No other is looked at. */
export function finalContainerDir(id: string, paths: StatePaths = PATHS): ContainerDir | null {
  const entry = containerDirOf(paths, id);
  return entry.record === null && !existsSync(entry.dir) ? null : entry;
}

/**
 * Where a container directory is in its life, read from its name and record:
 *
 *   building    .new-<owner>-<id>, or a record still `created`: its owner is setting it up
 *   running     its record says so and its owner (minictr, or -d's monitor) is alive
 *   orphaned    its owner is gone (or its record unreadable) before it was torn down: gc's to collect
 *   collecting  .gc-<collector>-<id>: a live gc (or `minictr cleanup`) is tearing it down
 *   exited      torn down and kept for ps -a, logs and inspect until rm (under .gc- when its collector died just
 *               before renaming it back: gc finishes that rename)
 *   removing    .rm-<remover>-<id>: its teardown is complete and its directory is being deleted
 *
 * `responsible` is the live process whose work it is now; null when it is gc's (orphaned, a removal whose remover
 * died, an exited directory still under .gc-) or nobody's (exited). `garbage`: gc has something to do with it.
 */
export interface Phase {
  name: 'building' | 'running' | 'orphaned' | 'collecting' | 'exited' | 'removing';
  responsible: ProcessRef | null;
  garbage: boolean;
}

export function phaseOf(entry: ContainerDir): Phase {
  const alive = (process: ProcessRef | null) => (process !== null && isAlive(process) ? process : null);
  if (entry.removing) {
    const remover = alive(entry.remover);
    return { name: 'removing', responsible: remover, garbage: remover === null };
  }
  const collector = alive(entry.collector);
  if (collector !== null) return { name: 'collecting', responsible: collector, garbage: false };
  if (entry.exited) return { name: 'exited', responsible: null, garbage: entry.collector !== null };
  const owner = alive(entry.owner);
  if (owner === null) return { name: 'orphaned', responsible: null, garbage: true };
  return { name: entry.record?.status === 'running' ? 'running' : 'building', responsible: owner, garbage: false };
}

/** Whether a directory in `phase` still stands for its container: anything but a removal whose remover died. */
export function stillPresent(phase: Phase): boolean {
  return phase.name !== 'removing' || phase.responsible !== null;
}

/**
 * Whether the container has a directory under any of its names. Checked in the order a directory moves through
 * them (.new-… → final → .gc-), so a rename between two checks cannot hide it.
 */
export function containerDirExists(id: string, paths: StatePaths = PATHS): boolean {
  if (id === '') return false;
  // Names alone, no record read: whether a directory still stands for its container does not depend on it.
  const prefixed = () =>
    containerDirNames(paths).some((name) => {
      const entry = containerDirOf(paths, name, false);
      return entry.id === id && name !== id && stillPresent(phaseOf(entry));
    });
  return prefixed() || existsSync(join(paths.containers, id)) || prefixed();
}

/** The name under which the gc process `collector` claims a container's directory. */
export function collectingDir(id: string, collector: ProcessRef, paths: StatePaths = PATHS): string {
  return join(paths.containers, `${COLLECTING_PREFIX}${collector.pid}-${collector.startTime}-${id}`);
}
