// The one teardown engine: undoing a container's journal, for a live run at its end, for `minictr cleanup` (a
// detached container's monitor) and for gc (a container whose minictr died) alike. Setup journals each host object
// before it creates it, so the journal read in reverse undoes exactly what may exist, whoever reads it.
//
// Words for removal, one meaning each:
//   undo      reverse one journal entry, or one entry of a run's in-memory stack (src/teardown.ts); an object that
//             no longer exists counts as undone
//   release   give a registry key back (an address, a name, a host port), which another container may take next
//   detach    the network's undo of attach: a container's map elements and veth (network/attach.ts)
//   teardown  the end of a container: its in-memory undos, if a live run has any, then its whole journal undone and
//             its directory settled (kept as exited, or removed): tearDown
//   collect   gc's teardown of a container nobody owns any more, after claiming its directory (gc.ts)
//   cleanup   `minictr cleanup ID`: the teardown a detached container's monitor runs as its owner (gc.ts)
//   remove    delete an exited container's directory (rm), or any other file or directory
//   reset     `minictr system reset`: remove everything minictr ever created on the host (reset.ts)

import { rmSync } from 'node:fs';
import { constants } from 'node:os';
import { basename } from 'node:path';
import { messageOf } from '../errors.js';
import { shortId } from '../ids.js';
import { debug } from '../log.js';
import { detach } from '../network/attach.js';
import { releaseNetworkLease } from '../network/networks.js';
import { describeMapping } from '../network/ports.js';
import { killAndWait } from '../sys/proc.js';
import { removeAnonymousVolume } from '../volume/store.js';
import { removeCgroups } from './cgroups.js';
import { leases, names, ports } from './registries.js';
import type { ContainerState, JournalEntry } from './state.js';

/** Undoes one journal entry; an object that no longer exists counts as undone. */
export async function undoEntry(id: string, entry: JournalEntry): Promise<void> {
  switch (entry.kind) {
    case 'name':
      names().release(id, entry.name);
      return;
    case 'lease':
      if (entry.network !== undefined) releaseNetworkLease(entry.network, id, entry.address);
      else leases().release(id, entry.address);
      return;
    case 'ports': {
      // Only the ports this container still holds: a port released already may be another container's now.
      const held = entry.mappings.filter((mapping) => ports().holder(mapping) === id);
      await detach({ published: { address: entry.address, mappings: held, ...(entry.ipv6 !== undefined ? { ipv6: entry.ipv6 } : {}) } });
      ports().release(id, held);
      return;
    }
    case 'process':
    case 'proxy':
      await killAndWait(entry);
      return;
    case 'cgroup':
      await removeCgroups(entry.dirs);
      return;
    case 'veth':
      await detach({ veth: entry.name });
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
      return `release address ${entry.address}${entry.network !== undefined ? ` on network ${entry.network}` : ''}`;
    case 'ports':
      return `unpublish ${entry.mappings.map((m) => describeMapping(m, entry.address)).join(', ')}`;
    case 'process':
      return `stop process ${entry.pid}`;
    case 'proxy':
      return `stop minictr-proxy ${entry.pid}`;
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
 * Entries undone only once everything undone before them succeeded: their undo hands something to the next run (a
 * process that could not be stopped must not have its name, address or ports given to another container), or
 * takes away what such a process may still be using (its writable layer, its anonymous volumes).
 */
const ONLY_AFTER_SUCCESS: ReadonlySet<JournalEntry['kind']> = new Set(['name', 'lease', 'ports', 'layer', 'volume']);

/**
 * What a container kept as exited keeps, journal entries included: its name, released by rm (removeExited), and
 * its anonymous volumes, removed by rm -v (a plain rm leaves them to `volume prune`, as Docker does).
 */
const KEPT_WITH_CONTAINER: ReadonlySet<JournalEntry['kind']> = new Set(['name', 'volume']);

export interface TeardownOptions {
  /** Keep the container as exited (it ran, and not --rm): it then keeps KEPT_WITH_CONTAINER and nothing else. */
  keep: boolean;
  /**
   * The caller (a live run) has stopped and reaped PID 1 without a failure: the process is gone, and the kernel
   * removes the veth pair with its network namespace, so neither is undone here.
   */
  reaped?: boolean;
}

/**
 * The order of undoing: last journaled first, except PID 1 (`process`), stopped before anything else. Once it is
 * gone so is the container's network namespace, and the kernel removes the veth pairs with it, for many containers
 * in one batch, where deleting each one waits for the kernel each time (about 13 ms, serialised by its rtnl lock:
 * 3 s of `rm -f` of 250).
 */
function undoOrder(entries: readonly JournalEntry[]): JournalEntry[] {
  const reversed = [...entries].reverse();
  return [...reversed.filter((entry) => entry.kind === 'process'), ...reversed.filter((entry) => entry.kind !== 'process')];
}

/**
 * Tears a container down from its journal: undoes every entry (in undoOrder), going on past failures (each is
 * returned, named; see ONLY_AFTER_SUCCESS for what a failure holds back); then, when none failed, keeps the
 * container as exited or removes its directory. After a failure the directory and its whole journal stay for gc to
 * retry (every undo can run again: each checks whose object it is). Exit code 137 when nobody reaped PID 1.
 */
export async function tearDown(state: ContainerState, options: TeardownOptions): Promise<Error[]> {
  const errors: Error[] = [];
  const entries = state.entries();
  for (const entry of undoOrder(entries)) {
    if (options.keep && KEPT_WITH_CONTAINER.has(entry.kind)) continue;
    if (options.reaped && (entry.kind === 'process' || entry.kind === 'veth')) continue;
    // PID 1 stopped without a failure: its veths go with its network namespace (see undoOrder).
    if (entry.kind === 'veth' && errors.length === 0 && entries.some((journaled) => journaled.kind === 'process')) continue;
    if (errors.length > 0 && ONLY_AFTER_SUCCESS.has(entry.kind)) {
      errors.push(new Error(`${describeEntry(entry)}: skipped after the failures above, kept for minictr gc`));
      continue;
    }
    try {
      debug(`teardown: ${describeEntry(entry)}`);
      await undoEntry(state.id, entry);
    } catch (cause) {
      errors.push(new Error(`${describeEntry(entry)}: ${messageOf(cause)}`, { cause }));
    }
  }
  if (errors.length > 0) return errors;
  try {
    if (options.keep) {
      state.rewriteJournal(entries.filter((entry) => KEPT_WITH_CONTAINER.has(entry.kind)));
      state.markExited(128 + constants.signals.SIGKILL);
    } else {
      state.remove();
    }
  } catch (cause) {
    errors.push(new Error(`${options.keep ? 'keep' : 'remove'} the state of ${shortId(state.id)}: ${messageOf(cause)}`, { cause }));
  }
  return errors;
}
