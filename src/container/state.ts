// On-disk state of containers, the record every teardown and gc works from.
//
// Layout (all under /run/minictr, a tmpfs: a reboot clears it together with every kernel object it describes):
//
//   containers/<id>/state.json   who owns the container and what it is (written once, before anything is created)
//   containers/<id>/journal      one JSON line per host object, appended *before* the object is created
//   containers/<id>/upper, work  the overlay's writable layer and work dir; merged/ is the mount point, mounted
//                                only inside the container's own mount namespace
//   leases/<address>             address leases (network/ipam.ts)
//   names/<name>                 --name reservations, holding the id
//   ports/<protocol>-<port>      published host ports, holding the id (network/ports.ts)
//   ip_forward.orig              ip_forward before minictr first set it (network/bridge.ts)
//
// A container directory appears atomically: it is built as containers/.new-<owner pid>-<owner start>-<id> and
// renamed into place, so a directory under its final name always has a complete state.json, and a half-built one
// names its owner in its own name. gc can thus tell, without reading a file being written, whether the process
// responsible for any directory is still alive.

import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { STATE_ROOT } from '../network/names.js';
import type { PortMapping } from '../network/ports.js';
import type { ProcessRef } from '../sys/proc.js';

export const CONTAINERS_DIR = join(STATE_ROOT, 'containers');
export const LEASES_DIR = join(STATE_ROOT, 'leases');
export const NAMES_DIR = join(STATE_ROOT, 'names');
export const PORTS_DIR = join(STATE_ROOT, 'ports');
const BUILDING_PREFIX = '.new-';
const COLLECTING_PREFIX = '.gc-';
const REMOVING_PREFIX = '.rm-';

/** A host object, as recorded in the journal before it is created. */
export type JournalEntry =
  | { kind: 'name'; name: string }
  | { kind: 'lease'; address: string }
  | { kind: 'ports'; address: string; mappings: PortMapping[] }
  | { kind: 'cgroup'; dirs: string[] }
  | { kind: 'process'; pid: number; startTime: number }
  | { kind: 'veth'; name: string };

export interface ContainerRecord {
  id: string;
  name: string | null;
  /** The minictr process that runs the container and must tear it down; gc acts only once it is gone. */
  owner: ProcessRef;
  createdAt: string;
  argv: string[];
  network: string;
}

export class ContainerState {
  readonly id: string;
  readonly dir: string;

  constructor(id: string, dir = join(CONTAINERS_DIR, id)) {
    this.id = id;
    this.dir = dir;
  }

  /** Creates the directory with its record, all at once (and the shared directories beside it, once). */
  static create(record: ContainerRecord): ContainerState {
    for (const dir of [LEASES_DIR, NAMES_DIR, PORTS_DIR]) mkdirSync(dir, { recursive: true });
    const building = join(CONTAINERS_DIR, `${BUILDING_PREFIX}${record.owner.pid}-${record.owner.startTime}-${record.id}`);
    mkdirSync(building, { recursive: true, mode: 0o700 });
    for (const sub of ['upper', 'work', 'merged']) mkdirSync(join(building, sub));
    writeFileSync(join(building, 'state.json'), `${JSON.stringify(record, null, 2)}\n`);
    const state = new ContainerState(record.id);
    renameSync(building, state.dir);
    return state;
  }

  get upperDir(): string {
    return join(this.dir, 'upper');
  }

  get workDir(): string {
    return join(this.dir, 'work');
  }

  get mergedDir(): string {
    return join(this.dir, 'merged');
  }

  record(): ContainerRecord {
    return JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as ContainerRecord;
  }

  /** Write-ahead: call before creating the object. One line per append, so a crash loses at most a partial line. */
  journal(entry: JournalEntry): void {
    appendFileSync(join(this.dir, 'journal'), `${JSON.stringify(entry)}\n`);
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

  /** Removes the directory: renamed out of gc's sight first, so gc never sees it half-deleted. */
  remove(): void {
    const tombstone = join(CONTAINERS_DIR, `${REMOVING_PREFIX}${process.pid}-${this.id}`);
    try {
      renameSync(this.dir, tombstone);
    } catch {
      return; // already gone
    }
    rmSync(tombstone, { recursive: true, force: true });
  }
}

export interface ContainerDir {
  id: string;
  dir: string;
  /** The process responsible for it; null when its record cannot be read (gc then treats it as dead). */
  owner: ProcessRef | null;
  /** For a directory gc has claimed (.gc-<pid>-<start>-<id>): that gc process. */
  collector: ProcessRef | null;
  /** A directory whose teardown finished and that is being deleted (.rm-<pid>-<id>). */
  removing: boolean;
}

function readOwner(dir: string): ProcessRef | null {
  try {
    return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ContainerRecord).owner;
  } catch {
    return null;
  }
}

const PROCESS_ID = '(\\d+)-(\\d+)-([0-9a-f]+)';
const BUILDING = new RegExp(`^\\.new-${PROCESS_ID}$`);
const COLLECTING = new RegExp(`^\\.gc-${PROCESS_ID}$`);
const REMOVING = /^\.rm-\d+-([0-9a-f]+)$/;

/**
 * Directories of containers: finished, half-built (.new-<owner>-<id>), claimed by a gc (.gc-<collector>-<id>) and
 * being deleted after a complete teardown (.rm-<pid>-<id>). Process references in names are "<pid>-<start time>".
 */
export function listContainerDirs(): ContainerDir[] {
  let names: string[];
  try {
    names = readdirSync(CONTAINERS_DIR);
  } catch {
    return [];
  }
  return names.map((name) => {
    const dir = join(CONTAINERS_DIR, name);
    const ref = (m: RegExpExecArray) => ({ pid: Number(m[1]), startTime: Number(m[2]) });
    const building = BUILDING.exec(name);
    if (building) return { id: building[3]!, dir, owner: ref(building), collector: null, removing: false };
    const collecting = COLLECTING.exec(name);
    if (collecting) return { id: collecting[3]!, dir, owner: readOwner(dir), collector: ref(collecting), removing: false };
    const removing = REMOVING.exec(name);
    if (removing) return { id: removing[1]!, dir, owner: null, collector: null, removing: true };
    return { id: name, dir, owner: readOwner(dir), collector: null, removing: false };
  });
}

/**
 * Whether the container has a directory under any of its names. Checked in the order a directory moves through
 * them (.new-… → final → .gc-), so a rename between two checks cannot hide it.
 */
export function containerDirExists(id: string): boolean {
  if (id === '') return false;
  const prefixed = () =>
    listContainerDirs().some((entry) => entry.id === id && !entry.removing && basename(entry.dir) !== id);
  return prefixed() || existsSync(join(CONTAINERS_DIR, id)) || prefixed();
}

/** The name under which the gc process `collector` claims a container's directory. */
export function collectingDir(id: string, collector: ProcessRef): string {
  return join(CONTAINERS_DIR, `${COLLECTING_PREFIX}${collector.pid}-${collector.startTime}-${id}`);
}
