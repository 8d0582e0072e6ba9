// Collecting containers whose minictr died without tearing down (SIGKILL, a crash, a power cut of the process), and
// the registry entries and writable layers no container accounts for.
//
// A container is garbage once the process responsible for it is gone (see phaseOf): its journal then lists every
// host object that may exist, and the teardown a live run does at its end (journal.ts) restores the host from it.

import { readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AggregateFailure, messageOf } from '../errors.js';
import { shortId } from '../ids.js';
import { debug, warn } from '../log.js';
import { forgetUnpublishedAhead, publish, publishedMappings, removePublished, unpublishAhead, type Published } from '../network/firewall.js';
import type { PortMapping } from '../network/ports.js';
import { PATHS } from '../paths.js';
import { isAlive, selfRef, type ProcessRef } from '../sys/proc.js';
import { tearDown, undoEntry } from './journal.js';
import { leases, names, ports } from './registries.js';
import { sweepNetworks } from '../network/networks.js';
import { deletePublished6, publish6, published6Elements } from '../network/network-firewall.js';
import { isCniOwner } from '../cni/attachments.js';
import { readEndpoints } from '../network/dns/records.js';
import {
  collectingDir,
  containerDirExists,
  ContainerState,
  finalContainerDir,
  listContainerDirs,
  phaseOf,
  readRecord,
  stillPresent,
  type ContainerDir,
  type JournalEntry,
  type Phase,
} from './state.js';

/**
 * Tears down one container from its journal, once its directory is claimed (of two processes trying, only the
 * one whose rename succeeds goes on). A container that ran and was not --rm is kept as exited, holding its name,
 * with the status its monitor recorded (or 137: killed here, or with its monitor); any other is removed. Returns
 * the entries it undid, or null when another process claimed it first; throws when an undo fails (the claimed
 * journal stays for the next gc, which finds this collector gone).
 */
async function collect({ id, dir, record }: ContainerDir, self: ProcessRef): Promise<JournalEntry[] | null> {
  const claimed = collectingDir(id, self);
  try {
    renameSync(dir, claimed);
  } catch {
    return null;
  }
  const state = new ContainerState(id, claimed);
  const keep = record !== null && record.status === 'running' && !record.autoRemove;
  const entries = state.entries();
  const errors = await tearDown(state, { keep });
  if (errors.length > 0) throw new AggregateFailure(`collect ${shortId(id)}`, errors);
  if (keep) renameSync(claimed, join(PATHS.containers, id));
  debug(`gc: collected ${id}${keep ? ', kept as exited' : ''}`);
  return entries;
}

const sameProcess = (a: ProcessRef | null, b: ProcessRef | null) => a?.pid === b?.pid && a?.startTime === b?.startTime;

/**
 * Whether a directory that looked abandoned when listed still is: the listing may be older than a handover (a
 * `run -d` naming its monitor as owner just before it exits). A dead owner cannot change the record any more, so a
 * record that still names it, read now, is safe to collect.
 */
function stillUnowned(entry: ContainerDir): boolean {
  if (entry.record === null) return true; // half-built (.new-, owner in its name) or unreadable
  const now = readRecord(entry.dir);
  return now !== null && now.status !== 'exited' && sameProcess(now.owner, entry.owner) && (now.owner === null || !isAlive(now.owner));
}

/**
 * A detached container's teardown, run by its minictr-monitor when PID 1 has exited (`minictr cleanup ID`, exec'd
 * in place of the monitor, so it is still the recorded owner). When the container never became the monitor's,
 * its minictr still owns it (setup failed and is being undone) or is dead (then gc's rule applies).
 */
export async function cleanupContainer(id: string): Promise<void> {
  const self = selfRef();
  const found = finalContainerDir(id); // only its own: the monitor's cleanup costs the same however many run
  if (found === null) return;
  const { name, responsible } = phaseOf(found);
  if (name === 'exited' || (responsible !== null && !sameProcess(responsible, self))) return;
  await collect(found, self);
}

/** Whether the container holding `mapping`'s host port journaled exactly this element: mapping and address. */
function journaled(mapping: PortMapping, address: string): boolean {
  const holder = ports().holder(mapping);
  if (holder !== null && isCniOwner(holder)) return true; // minictr-cni's: its DEL or GC removes it
  const same = (other: PortMapping) =>
    other.protocol === mapping.protocol && other.hostPort === mapping.hostPort && other.hostIp === mapping.hostIp && other.containerPort === mapping.containerPort;
  return holder !== null && new ContainerState(holder).entries().some((entry) => entry.kind === 'ports' && entry.address === address && entry.mappings.some(same));
}

/**
 * Removes map elements that no container accounts for. A run journals and claims a port before it adds the
 * element, and a teardown removes the element before it releases the port, so an element that the port's holder
 * did not journal is stale. One appears when minictr is killed while its nft call is publishing: that nft process
 * outlives it and may add the element after gc has unpublished it. Run after gc has collected a container that
 * published ports, and by a run whose publishing meets such an element.
 */
export async function removeStalePublished(): Promise<void> {
  for (const { mapping, address } of await publishedMappings()) {
    if (journaled(mapping, address)) continue;
    await removePublished([mapping], address);
    // A run may have claimed the port and published this very element between the check and the delete: give it
    // back.
    if (journaled(mapping, address)) await publish([mapping], address);
  }
}

/**
 * The same for IPv6 (a dual-stack network's published6 map): an element is stale unless its host port's holder
 * journaled it, with this container address. An element whose container is gone would otherwise hold its port
 * over IPv6 until a run publishes that port again.
 */
export function removeStalePublished6(): void {
  for (const element of published6Elements()) {
    const { mapping, address6 } = element;
    const same = (other: PortMapping) => other.hostIp === null && other.protocol === mapping.protocol && other.hostPort === mapping.hostPort && other.containerPort === mapping.containerPort;
    const journaled6 = () => {
      const holder = ports().holder(mapping);
      if (holder !== null && isCniOwner(holder)) return true;
      return holder !== null && new ContainerState(holder).entries().some((entry) => entry.kind === 'ports' && entry.ipv6?.address === address6 && entry.mappings.some(same));
    };
    if (journaled6()) continue;
    deletePublished6(element);
    // As above: a run may have claimed the port and published this very element meanwhile.
    if (journaled6()) publish6(element.bridge, [mapping], address6);
  }
}

/** The published ports a container still holds (journal.ts unpublishes the same ones at its teardown). */
function heldPorts({ id, dir }: ContainerDir): Published[] {
  return new ContainerState(id, dir).entries().flatMap((entry) => {
    if (entry.kind !== 'ports') return [];
    const mappings = entry.mappings.filter((mapping) => ports().holder(mapping) === id);
    return mappings.length > 0 ? [{ mappings, address: entry.address }] : [];
  });
}

// Most of a teardown is waiting for a killed process to go (a pidfd each) and its cgroup to empty: many at a time
// overlap those waits.
const COLLECT_CONCURRENCY = 64;

/** Runs `task` on every item, at most `limit` at a time. `task` must not reject: it reports its own failures. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** A directory with its phase, found once: its owner's liveness (a read of /proc) is most of what a gc costs. */
interface Phased {
  entry: ContainerDir;
  phase: Phase;
}

const phased = (dirs: readonly ContainerDir[]): Phased[] => dirs.map((entry) => ({ entry, phase: phaseOf(entry) }));

/**
 * Collects what of `dirs` is garbage (see phaseOf): finishes a removal or a rename back to exited whose process
 * died, and tears down every container whose owner is gone. Returns the ids of those torn down; pushes each failure
 * on `errors` (a container whose undo fails stays claimed, journal included, and the next gc, finding its collector
 * gone, tries again).
 */
async function collectDirs(dirs: readonly Phased[], errors: Error[]): Promise<string[]> {
  const self = selfRef();
  const collected: string[] = [];
  const abandoned: ContainerDir[] = [];
  for (const { entry, phase } of dirs) {
    if (!phase.garbage) continue;
    if (phase.name === 'removing') {
      rmSync(entry.dir, { recursive: true, force: true });
    } else if (phase.name === 'exited') {
      // Kept as exited, still under its collector's name: that collector died just before renaming it back.
      try {
        renameSync(entry.dir, join(PATHS.containers, entry.id));
      } catch {
        // another gc did it first
      }
    } else if (stillUnowned(entry)) {
      abandoned.push(entry);
    }
  }
  // Their published ports first, in one nftables transaction: no packet reaches them any more, and each teardown
  // finds its ports done. Containers are independent (each one is claimed by its own rename): COLLECT_CONCURRENCY
  // at a time.
  await unpublishAhead(abandoned.flatMap(heldPorts));
  let unpublished = false;
  try {
    await forEachConcurrently(abandoned, COLLECT_CONCURRENCY, async (entry) => {
      try {
        const undone = await collect(entry, self);
        if (undone === null) return;
        collected.push(entry.id);
        unpublished ||= undone.some((undid) => undid.kind === 'ports');
      } catch (failure) {
        errors.push(failure as Error);
      }
    });
  } finally {
    forgetUnpublishedAhead();
  }
  if (unpublished) {
    try {
      await removeStalePublished();
      removeStalePublished6();
    } catch (failure) {
      errors.push(new Error(`remove stale published ports: ${messageOf(failure)}`));
    }
  }
  return collected;
}

/**
 * gc of the containers `ids` only (rm -f, once it has killed their monitors): their directories are the only ones
 * read, however many others there are. Returns the ids torn down.
 */
export async function collectContainers(ids: readonly string[]): Promise<string[]> {
  const errors: Error[] = [];
  const collected = await collectDirs(phased(listContainerDirs(PATHS, new Set(ids))), errors);
  if (errors.length > 0) warn(new AggregateFailure('gc', errors).message);
  return collected;
}

/**
 * Tears down every container whose owner is gone, then releases what no container directory accounts for.
 * Returns the ids collected.
 */
export async function collectGarbage(): Promise<string[]> {
  const errors: Error[] = [];
  const dirs = phased(listContainerDirs());
  const listed = new Set(dirs.flatMap(({ entry, phase }) => (stillPresent(phase) ? [entry.id] : [])));
  const collected = await collectDirs(dirs, errors);
  for (const id of collected) listed.delete(id); // a lease it took but never journaled (a crash in between) is swept below
  // Leases, names and ports whose container directory is gone: a run killed between taking one and journaling it.
  // A run creates its directory before taking any, so an owner without a directory is dead, never just starting.
  // The listing above, less what was just collected, answers for almost every owner; only a suspect is checked
  // again, carefully (see containerDirExists).
  const gone = (owner: string) => !isCniOwner(owner) && !listed.has(owner) && !containerDirExists(owner);
  for (const registry of [leases(), names(), ports()]) registry.files.sweep(gone);
  sweepNetworks(gone);
  // Writable layers of containers that are gone (a reboot cleared /run, or a crash came between a teardown's
  // steps) or exited (whose layer goes at the exit). A run makes its directory before its layer, as above.
  const exited = new Set(dirs.flatMap(({ entry }) => (entry.exited ? [entry.id] : [])));
  for (const id of listDir(PATHS.layers)) {
    if (exited.has(id) || gone(id)) {
      try {
        rmSync(join(PATHS.layers, id), { recursive: true, force: true });
      } catch (failure) {
        errors.push(new Error(`remove writable layer ${join(PATHS.layers, id)}: ${messageOf(failure)}`));
      }
    }
  }
  if (errors.length > 0) throw new AggregateFailure('gc', errors);
  return collected;
}

/** The names in `dir`; none when it does not exist. */
function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Removes an exited container: its directory first (renamed out of sight, so a concurrent rm finds nothing), then
 * what its journal still lists: its name and, with `volumes` (rm -v), its anonymous volumes; without, they stay
 * for `volume prune`. A crash in between leaves a name without a directory, which gc releases (and anonymous
 * volumes no container uses, which prune removes). Anything but an exited container is left alone: exited is
 * final, so the check cannot go stale.
 */
export async function removeExited(id: string, { volumes = false }: { volumes?: boolean } = {}): Promise<void> {
  const state = new ContainerState(id);
  try {
    if (state.record().status !== 'exited') return;
  } catch {
    return; // gone already (--rm)
  }
  const remaining = state.entries().filter((entry) => entry.kind !== 'volume' || volumes);
  if (!state.remove()) return; // a concurrent rm removed it, and releases its names
  for (const entry of remaining) await undoEntry(id, entry);
}

/**
 * A claim on what containers hold (a name, an address, host ports), made again after a gc when it fails: what
 * holds it may be the leftover of a container whose minictr (or monitor) died, which only gc releases. A run does
 * no gc otherwise: one looks at every container, and a run's start must not grow with the containers running.
 */
export async function claimRecovering<T>(claim: () => T | Promise<T>): Promise<T> {
  try {
    return await claim();
  } catch {
    await collectGarbageIfAny();
    return claim();
  }
}

/** Whether container `id` is gc's to collect: it has no directory, or its owner is gone (see phaseOf). */
function abandoned(id: string): boolean {
  const dirs = listContainerDirs(PATHS, new Set([id]));
  return dirs.length === 0 || dirs.some((entry) => phaseOf(entry).garbage);
}

/**
 * Before a run adds its DNS record on a user-defined network (in `networkStateDir`): a gc when a record answering
 * for one of its `names` (a shared --network-alias, say) is a dead container's, whose address nobody answers at.
 */
export async function collectIfNamesAbandoned(networkStateDir: string, names: readonly string[]): Promise<void> {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const sharing = readEndpoints(networkStateDir).filter((endpoint) => endpoint.names.some((name) => wanted.has(name)));
  if (sharing.some((endpoint) => abandoned(endpoint.id))) await collectGarbageIfAny();
}

let gcInFlight: Promise<void> | null = null;

/**
 * gc before a command looks at containers (ps, stop, exec…), skipped on an idle host (no container directory or
 * writable layer). One at a time in this process: a caller that needs a gc while one runs joins it. Its failures
 * are said, never thrown: another container's must not stop this command.
 */
export function collectGarbageIfAny(): Promise<void> {
  if (listDir(PATHS.containers).length === 0 && listDir(PATHS.layers).length === 0) return Promise.resolve();
  gcInFlight ??= collectGarbage()
    .then(() => undefined, (cause: Error) => warn(cause.message))
    .finally(() => (gcInFlight = null));
  return gcInFlight;
}
