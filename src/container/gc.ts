// Cleaning up after containers whose minictr died without tearing down (SIGKILL, a crash, a power cut of the
// process), and resetting the host to before minictr.
//
// A container is garbage once the minictr process that owns it is gone: its journal then lists every host object
// that may exist, and undoing the entries in reverse restores the host. The same undo functions serve a live run's
// teardown (lifecycle.ts), so setup, teardown and gc always work from the same record.

import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, join } from 'node:path';
import { AggregateFailure, messageOf, UsageError } from '../errors.js';
import { debug } from '../log.js';
import { deleteTable, publish, publishedMappings, unpublish } from '../network/firewall.js';
import { restoreForwarding } from '../network/bridge.js';
import { Ipam } from '../network/ipam.js';
import { describeMapping, PortRegistry, type PortMapping } from '../network/ports.js';
import { linkExists } from '../network/iproute.js';
import { BRIDGE, DATA_ROOT, STATE_ROOT, SUBNET_CIDR } from '../network/names.js';
import { Subnet } from '../network/subnet.js';
import { deleteVethIfPresent } from '../network/veth.js';
import { runCommand } from '../sys/command.js';
import { createExclusive, listOwned, ownerOf, removeIfOwned, removeStaleTemporaries } from '../sys/exclusive-file.js';
import { isAlive, killAndWait, selfRef, type ProcessRef } from '../sys/proc.js';
import { removeCgroupParents, removeCgroups } from './cgroups.js';
import { removeAnonymousVolume } from './mounts.js';
import { releaseName } from './names.js';
import {
  collectingDir,
  containerDirExists,
  CONTAINERS_DIR,
  ContainerState,
  LAYERS_DIR,
  LEASES_DIR,
  listContainerDirs,
  NAMES_DIR,
  PORTS_DIR,
  readRecord,
  removerAlive,
  type ContainerDir,
  type JournalEntry,
} from './state.js';

export function ipam(): Ipam {
  return new Ipam(LEASES_DIR, Subnet.parse(SUBNET_CIDR));
}

export function portRegistry(): PortRegistry {
  return new PortRegistry(PORTS_DIR);
}

/**
 * Undoes entries in order, stopping at the first failure: what was acquired before a process that cannot be
 * stopped (its address, its ports) must not be handed to anyone else. Returns that failure, or null.
 */
async function undoAll(id: string, entries: JournalEntry[]): Promise<Error | null> {
  for (const entry of entries) {
    try {
      await undoEntry(id, entry);
    } catch (cause) {
      return new Error(`${describeEntry(entry)} of ${id.slice(0, 12)}: ${messageOf(cause)}`);
    }
  }
  return null;
}

/** Undoes one journal entry; an object that no longer exists counts as undone. */
export async function undoEntry(id: string, entry: JournalEntry): Promise<void> {
  switch (entry.kind) {
    case 'name':
      releaseName(entry.name, id);
      return;
    case 'lease':
      ipam().release(entry.address, id);
      return;
    case 'ports': {
      // Only the ports this container still holds: a port released already may be another container's now.
      const held = entry.mappings.filter((mapping) => portRegistry().holder(mapping) === id);
      await unpublish(held, entry.address);
      portRegistry().release(id, held);
      return;
    }
    case 'process':
      await killAndWait(entry);
      return;
    case 'cgroup':
      await removeCgroups(entry.dirs);
      return;
    case 'veth':
      await deleteVethIfPresent(entry.name);
      return;
    case 'layer':
      // The journal names the directory; it must be this container's, whatever the file says.
      if (basename(entry.dir) !== id) throw new Error(`${entry.dir} is not the writable layer of ${id}`);
      rmSync(entry.dir, { recursive: true, force: true });
      return;
    case 'volume':
      removeAnonymousVolume(entry.name, id);
      return;
  }
}

export function describeEntry(entry: JournalEntry): string {
  switch (entry.kind) {
    case 'name':
      return `release name ${entry.name}`;
    case 'lease':
      return `release address ${entry.address}`;
    case 'ports':
      return `unpublish ${entry.mappings.map((m) => describeMapping(m, entry.address)).join(', ')}`;
    case 'process':
      return `stop process ${entry.pid}`;
    case 'cgroup':
      return `remove cgroup ${entry.dirs.join(', ')}`;
    case 'veth':
      return `remove veth ${entry.name}`;
    case 'layer':
      return `remove writable layer ${entry.dir}`;
    case 'volume':
      return `remove anonymous volume ${entry.name}`;
  }
}

/**
 * Tears down one container from its journal, once its directory is claimed (of two processes trying, only the
 * one whose rename succeeds goes on). A container that ran and was not --rm is kept as exited, holding its name,
 * with the status its monitor recorded (or 137: killed here, or with its monitor); any other is removed. Returns
 * the entries it undid, or null when another process claimed it first; throws when an undo fails (the claimed journal stays for the next
 * gc, which finds this collector gone).
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
  const entries = state.entries().reverse();
  // Kept: its name, and its anonymous volumes (rm -v removes them).
  const failure = await undoAll(id, keep ? entries.filter((entry) => entry.kind !== 'name' && entry.kind !== 'volume') : entries);
  if (failure !== null) throw failure;
  if (keep) {
    state.markExited(128 + constants.signals.SIGKILL);
    renameSync(claimed, join(CONTAINERS_DIR, id));
  } else {
    state.remove();
  }
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
  const found = listContainerDirs().find((entry) => entry.id === id && entry.dir === join(CONTAINERS_DIR, id));
  if (found === undefined || found.exited) return;
  if (found.owner !== null && isAlive(found.owner) && !sameProcess(found.owner, self)) return;
  await collect(found, self);
}

/** Whether the container holding `mapping`'s host port journaled exactly this element: mapping and address. */
function journaled(mapping: PortMapping, address: string): boolean {
  const holder = portRegistry().holder(mapping);
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
    await unpublish([mapping], address);
    // A run may have claimed the port and published this very element between the check and the delete: give it
    // back.
    if (journaled(mapping, address)) await publish([mapping], address);
  }
}

const COLLECT_CONCURRENCY = 8;

/** Runs `task` on every item, at most `limit` at a time. `task` must not reject: it reports its own failures. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Tears down every container whose owner is gone. Returns the ids collected. A container whose undo fails stays
 * claimed, journal included, and the next gc (finding its collector gone) tries again.
 */
export async function collectGarbage(): Promise<string[]> {
  const self = selfRef();
  const collected: string[] = [];
  const errors: Error[] = [];
  const dirs = listContainerDirs();
  const listed = new Set(dirs.flatMap((entry) => (entry.removing && !removerAlive(entry) ? [] : [entry.id])));
  const abandoned: ContainerDir[] = [];
  for (const entry of dirs) {
    const { id, dir, owner, collector, removing, exited } = entry;
    if (removing) {
      if (!removerAlive(entry)) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (collector !== null && isAlive(collector)) continue;
    if (exited) {
      // Kept as exited; a collector that died just before renaming it back leaves that last step to us.
      if (collector !== null) {
        try {
          renameSync(dir, join(CONTAINERS_DIR, id));
        } catch {
          // another gc did it first
        }
      }
      continue;
    }
    if ((owner !== null && isAlive(owner)) || !stillUnowned(entry)) continue;
    abandoned.push(entry);
  }
  // Containers are independent (each one is claimed by its own rename), and most of a teardown is waiting: for a
  // killed process to go, and for nft, whose exit after deleting map elements waits for the kernel to free them
  // (an RCU grace period, 10-20 ms). A few at a time overlap those waits: `rm -f` of 250 takes a fraction of the time.
  let unpublished = false;
  await forEachConcurrently(abandoned, COLLECT_CONCURRENCY, async (entry) => {
    try {
      const undone = await collect(entry, self);
      if (undone === null) return;
      collected.push(entry.id);
      listed.delete(entry.id); // a lease it took but never journaled (a crash in between) is swept below
      unpublished ||= undone.some((undid) => undid.kind === 'ports');
    } catch (failure) {
      errors.push(failure as Error);
    }
  });
  if (unpublished) {
    try {
      await removeStalePublished();
    } catch (failure) {
      errors.push(new Error(`remove stale published ports: ${messageOf(failure)}`));
    }
  }
  // Leases, names and ports whose container directory is gone: a run killed between taking one and journaling it.
  // A run creates its directory before taking any, so an owner without a directory is dead, never just starting.
  // The listing above, less what was just collected, answers for almost every owner; only a suspect is checked
  // again, carefully (see containerDirExists).
  for (const dir of [LEASES_DIR, NAMES_DIR, PORTS_DIR]) {
    for (const [name, owner] of listOwned(dir)) {
      if (!listed.has(owner) && !containerDirExists(owner)) removeIfOwned(join(dir, name), owner);
    }
    removeStaleTemporaries(dir);
  }
  // Writable layers of containers that are gone (a reboot cleared /run, or a crash came between a teardown's
  // steps) or exited (whose layer goes at the exit). A run makes its directory before its layer, as above.
  const exited = new Set(dirs.flatMap((entry) => (entry.exited ? [entry.id] : [])));
  for (const id of listDir(LAYERS_DIR)) {
    if (exited.has(id) || (!listed.has(id) && !containerDirExists(id))) {
      try {
        rmSync(join(LAYERS_DIR, id), { recursive: true, force: true });
      } catch (failure) {
        errors.push(new Error(`remove writable layer ${join(LAYERS_DIR, id)}: ${messageOf(failure)}`));
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
 * its name. A crash in between leaves a name without a directory, which gc releases. Anything but an exited
 * container is left alone: exited is final, so the check cannot go stale.
 */
export function removeExited(id: string): void {
  const state = new ContainerState(id);
  try {
    if (state.record().status !== 'exited') return;
  } catch {
    return; // gone already (--rm)
  }
  const names = state.entries().flatMap((entry) => (entry.kind === 'name' ? [entry.name] : []));
  if (!state.remove()) return; // a concurrent rm removed it, and releases its names
  for (const name of names) releaseName(name, id);
}

/** True when some container directory or writable layer exists: lets `run` skip gc entirely on an idle host. */
export function hasContainerState(): boolean {
  return listDir(CONTAINERS_DIR).length > 0 || listDir(LAYERS_DIR).length > 0;
}

/**
 * `minictr system reset` must not delete what a run is building meanwhile, and no lock is held across commands.
 * So a handshake: reset creates this marker, then looks for live containers; a run creates its directory, then
 * looks for the marker (resetInProgress). Whichever looks second sees the other, and one of them backs off.
 */
const RESET_MARKER = join(STATE_ROOT, 'reset');

/** The reset process a marker's content ("<pid> <start time>") names, if it still runs. */
function liveHolder(content: string | null): boolean {
  const [pid, startTime] = (content ?? '').split(' ').map(Number);
  return pid !== undefined && startTime !== undefined && pid > 0 && isAlive({ pid, startTime });
}

/** Whether a `system reset` is under way: then a run must not build anything. */
export function resetInProgress(): boolean {
  return liveHolder(ownerOf(RESET_MARKER));
}

/**
 * Removes everything minictr ever created on this host: garbage containers, the nftables table, the bridge, the
 * forwarding setting it changed, the shared cgroup parents, the state directory and the writable layers' directory
 * (and /var/lib/minictr once nothing else is in it). Refuses while containers are running.
 */
export async function resetSystem(): Promise<void> {
  const self = selfRef();
  const marker = `${self.pid} ${self.startTime}`;
  mkdirSync(STATE_ROOT, { recursive: true });
  if (!createExclusive(RESET_MARKER, marker)) {
    // Read once: the marker of a reset that died is removed only if it is still that one.
    const found = ownerOf(RESET_MARKER);
    if (liveHolder(found)) throw new UsageError('another minictr system reset is under way');
    if (found !== null) removeIfOwned(RESET_MARKER, found);
    if (!createExclusive(RESET_MARKER, marker)) throw new UsageError('another minictr system reset is under way');
  }
  try {
    await resetWithMarker();
  } finally {
    removeIfOwned(RESET_MARKER, marker);
  }
  // The state directory goes last, once the marker has: a run that began since keeps what it made.
  try {
    rmdirSync(STATE_ROOT);
  } catch {
    // not empty (a run has begun) or gone: either way, nothing of the reset is left
  }
}

async function resetWithMarker(): Promise<void> {
  const busy = listContainerDirs().filter(
    ({ owner, collector }) => (owner !== null && isAlive(owner)) || (collector !== null && isAlive(collector)),
  );
  if (busy.length > 0) {
    const ids = busy.map(({ id }) => id.slice(0, 12)).join(', ');
    throw new UsageError(`cannot reset while containers are running or being collected: ${ids}`);
  }
  // What gc cannot undo must stay recorded: reset stops here rather than delete the journal it would need.
  await collectGarbage();
  const errors: Error[] = [];
  const attempt = async (what: string, action: () => unknown) => {
    try {
      await action();
    } catch (cause) {
      errors.push(new Error(`${what}: ${messageOf(cause)}`));
    }
  };
  await attempt(`delete nftables table`, deleteTable);
  await attempt(`delete bridge ${BRIDGE}`, async () => {
    if (linkExists(BRIDGE)) await runCommand(['ip', 'link', 'del', BRIDGE]);
  });
  await attempt('restore net.ipv4.ip_forward', restoreForwarding);
  await attempt('remove the minictr cgroups', removeCgroupParents);
  await attempt(`remove ${LAYERS_DIR}`, () => {
    rmSync(LAYERS_DIR, { recursive: true, force: true });
    try {
      rmdirSync(DATA_ROOT);
    } catch {
      // gone, or holding data that is not a container's
    }
  });
  // Everything under the state directory but the marker, which must stand until the very end.
  await attempt(`remove ${STATE_ROOT}`, () => {
    for (const name of readdirSync(STATE_ROOT)) if (join(STATE_ROOT, name) !== RESET_MARKER) rmSync(join(STATE_ROOT, name), { recursive: true, force: true });
  });
  if (errors.length > 0) throw new AggregateFailure('system reset', errors);
}
