// Containers as other commands see them (ps, kill, stop, rm, logs, exec, inspect): read from their state directories
// and journals, and found by full id, name, or a unique id prefix, as Docker does.

import { basename, join } from 'node:path';
import { MinictrError } from '../errors.js';
import { shortId } from '../ids.js';
import type { PortMapping } from '../network/ports.js';
import { PATHS } from '../paths.js';
import { isAlive, type ProcessRef } from '../sys/proc.js';
import { collectGarbageIfAny } from './gc.js';
import { ContainerState, containerDirExists, listContainerDirs, phaseOf, readRecord, type ContainerStatus } from './state.js';

export interface ContainerInfo {
  id: string;
  name: string | null;
  argv: string[];
  /** The image it runs (name, and id: the config's digest); null when it runs the directory `rootfs` itself. */
  image: { name: string; id: string } | null;
  rootfs: string;
  createdAt: string;
  /** PID 1 of the container, once it exists. */
  process: ProcessRef | null;
  address: string | null;
  /** Host end of its veth pair. */
  veth: string | null;
  ports: PortMapping[];
  /** The process that tears it down (minictr, or a detached container's monitor); null once exited. */
  owner: ProcessRef | null;
  status: ContainerStatus;
  detached: boolean;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  dir: string;
}

/**
 * Containers whose owner is alive (being set up, running, or being torn down by another process), oldest first;
 * with `all`, also those kept as exited. Containers whose owner died are not listed: gc has yet to tear them down.
 * A teardown moves a directory (to .gc-… and back): one that moved while it was read is looked for again, so a
 * container is never missing from a listing just because its teardown was under way. With `only`, just those
 * containers (by id) are read.
 */
export function listContainers(options: { all?: boolean; only?: ReadonlySet<string> } = {}): ContainerInfo[] {
  const containers = new Map<string, ContainerInfo>();
  for (let attempt = 0, moved = true; moved && attempt < 3; attempt++) {
    moved = false;
    for (const entry of listContainerDirs(PATHS, options.only)) {
      const { id, dir, owner } = entry;
      if (containers.has(id)) continue;
      const phase = phaseOf(entry).name;
      if (phase === 'collecting' ? false : basename(dir) !== id) continue; // being built or removed
      if (phase === 'exited' ? !options.all : phase !== 'building' && phase !== 'running' && phase !== 'collecting') continue;
      const info = readInfo(id, dir, owner);
      if (info === null) moved = true;
      else containers.set(id, info);
    }
  }
  return [...containers.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** What a listing shows of one container directory; null when it moved or went while it was read. */
function readInfo(id: string, dir: string, owner: ProcessRef | null): ContainerInfo | null {
  try {
    const state = new ContainerState(id, dir);
    const record = state.record();
    const entries = state.entries();
    const process = entries.find((e) => e.kind === 'process') ?? null;
    return {
      id,
      name: record.name,
      argv: record.argv,
      image: record.config.image ?? null,
      rootfs: record.config.rootfs,
      createdAt: record.createdAt,
      process: process === null ? null : { pid: process.pid, startTime: process.startTime },
      address: entries.find((e) => e.kind === 'lease')?.address ?? null,
      veth: entries.find((e) => e.kind === 'veth')?.name ?? null,
      ports: entries.flatMap((e) => (e.kind === 'ports' ? e.mappings : [])),
      owner,
      status: record.status,
      detached: record.detached,
      exitCode: record.exitCode,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      dir,
    };
  } catch {
    return null;
  }
}

/**
 * Reads a listed container's directory with `read`; when a teardown moved the directory since the listing (to
 * .gc-… and back), finds it again and reads there (a few tries).
 */
export function readListed<T>(container: ContainerInfo, read: (state: ContainerState) => T): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return read(new ContainerState(container.id, container.dir));
    } catch (cause) {
      const again = attempt < 4 ? listContainers({ all: true }).find((c) => c.id === container.id) : undefined;
      if (again === undefined) throw cause;
      container = again;
    }
  }
}

/**
 * listContainers after a gc: a container whose owner died (minictr, or its monitor, killed) is torn down first, and
 * shows as exited (or is gone, with --rm) rather than being invisible until the next run.
 */
export async function currentContainers(options: { all?: boolean } = {}): Promise<ContainerInfo[]> {
  await collectGarbageIfAny();
  return listContainers(options);
}

/** The container `ref` names: a full id, a name, or an id prefix matching exactly one container. */
export function resolveContainer(ref: string, containers: readonly ContainerInfo[]): ContainerInfo {
  const exact = containers.find((c) => c.id === ref || c.name === ref);
  if (exact !== undefined) return exact;
  const matches = ref === '' ? [] : containers.filter((c) => c.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new MinictrError(`multiple containers match "${ref}": ${matches.map((c) => shortId(c.id)).join(', ')}`, 'lookup');
  }
  throw new MinictrError(`No such container: ${ref}`, 'lookup');
}

/** True while PID 1 runs (its owner is alive, by the listing's rule, and the record says it has started). */
export function isRunning(container: ContainerInfo): boolean {
  return container.status === 'running' && container.process !== null && isAlive(container.process);
}

/**
 * The state of container `id` as its directory says now: 'exited' once torn down and kept, 'gone' once removed,
 * or 'live' while it is set up, running, or being torn down (its directory may be under another name meanwhile).
 */
export function teardownState(id: string): 'exited' | 'gone' | 'live' {
  const record = readRecord(join(PATHS.containers, id));
  if (record === null) return containerDirExists(id) ? 'live' : 'gone';
  return record.status === 'exited' ? 'exited' : 'live';
}
