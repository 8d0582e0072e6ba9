// Running containers as other commands see them (ps, kill, stop): read from their state directories and journals,
// and found by full id, name, or a unique id prefix, as Docker does.

import { basename } from 'node:path';
import { MinictrError } from '../errors.js';
import type { PortMapping } from '../network/ports.js';
import { isAlive, type ProcessRef } from '../sys/proc.js';
import { ContainerState, listContainerDirs } from './state.js';

export interface ContainerInfo {
  id: string;
  name: string | null;
  argv: string[];
  createdAt: string;
  /** PID 1 of the container, once it exists. */
  process: ProcessRef | null;
  address: string | null;
  /** Host end of its veth pair. */
  veth: string | null;
  ports: PortMapping[];
  /** The minictr process that runs the container and tears it down. */
  owner: ProcessRef;
}

/** Containers whose minictr is alive, oldest first. */
export function listContainers(): ContainerInfo[] {
  const containers: ContainerInfo[] = [];
  for (const { id, dir, owner } of listContainerDirs()) {
    if (basename(dir) !== id || owner === null || !isAlive(owner)) continue; // starting, ending or dead
    try {
      const state = new ContainerState(id, dir);
      const record = state.record();
      const entries = state.entries();
      const process = entries.find((e) => e.kind === 'process') ?? null;
      containers.push({
        id,
        name: record.name,
        argv: record.argv,
        createdAt: record.createdAt,
        process: process === null ? null : { pid: process.pid, startTime: process.startTime },
        address: entries.find((e) => e.kind === 'lease')?.address ?? null,
        veth: entries.find((e) => e.kind === 'veth')?.name ?? null,
        ports: entries.flatMap((e) => (e.kind === 'ports' ? e.mappings : [])),
        owner,
      });
    } catch {
      // it ended while we read it
    }
  }
  return containers.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** The container `ref` names: a full id, a name, or an id prefix matching exactly one container. */
export function resolveContainer(ref: string, containers: readonly ContainerInfo[]): ContainerInfo {
  const exact = containers.find((c) => c.id === ref || c.name === ref);
  if (exact !== undefined) return exact;
  const matches = ref === '' ? [] : containers.filter((c) => c.id.startsWith(ref));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new MinictrError(`multiple containers match "${ref}": ${matches.map((c) => c.id.slice(0, 12)).join(', ')}`, 'lookup');
  }
  throw new MinictrError(`No such container: ${ref}`, 'lookup');
}
