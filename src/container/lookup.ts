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
 * Containers whose owner is alive (being set up, or running), oldest first; with `all`, also those kept as exited.
 * Containers whose owner died are not listed: gc has yet to tear them down.
 */
export function listContainers(options: { all?: boolean } = {}): ContainerInfo[] {
  const containers: ContainerInfo[] = [];
  for (const entry of listContainerDirs()) {
    const { id, dir, owner } = entry;
    if (basename(dir) !== id) continue; // being built, collected or removed
    const phase = phaseOf(entry).name;
    if (phase === 'exited' ? !options.all : phase !== 'building' && phase !== 'running') continue;
    try {
      const state = new ContainerState(id, dir);
      const record = state.record();
      const entries = state.entries();
      const process = entries.find((e) => e.kind === 'process') ?? null;
      containers.push({
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
      });
    } catch {
      // it ended while we read it
    }
  }
  return containers.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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
