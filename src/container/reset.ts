// `minictr system reset`: everything minictr ever created on this host removed, the host as before minictr. Garbage
// containers are collected first (gc.ts); what no container owns goes next: the user-defined networks (bridges,
// tables, resolvers, definitions), the nftables table, the bridge, the forwarding setting it changed, the shared
// cgroup parents, the state directory and the writable layers'.

import { mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AggregateFailure, messageOf, UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { hostNetworkRemovals } from '../network/attach.js';
import { allNetworksRemovals } from '../network/network-host.js';
import { PATHS } from '../paths.js';
import { createExclusive, ownerOf, removeIfOwned } from '../sys/exclusive-file.js';
import { isAlive, selfRef } from '../sys/proc.js';
import { removeCgroupParents } from './cgroups.js';
import { collectGarbage } from './gc.js';
import { listContainerDirs, phaseOf } from './state.js';

/*
 * A reset must not delete what a run is building meanwhile, and no lock is held across commands. So a handshake:
 * reset creates its marker, then looks for live containers; a run creates its directory, then looks for the marker
 * (resetInProgress). Whichever looks second sees the other, and one of them backs off.
 */

/** The reset process a marker's content ("<pid> <start time>") names, if it still runs. */
function liveHolder(content: string | null): boolean {
  const [pid, startTime] = (content ?? '').split(' ').map(Number);
  return pid !== undefined && startTime !== undefined && pid > 0 && isAlive({ pid, startTime });
}

/** Whether a `system reset` is under way: then a run must not build anything. */
export function resetInProgress(): boolean {
  return liveHolder(ownerOf(PATHS.resetMarker));
}

/**
 * Removes everything minictr ever created on this host (and /var/lib/minictr once nothing else is in it). Refuses
 * while containers are running.
 */
export async function resetSystem(): Promise<void> {
  const self = selfRef();
  const marker = `${self.pid} ${self.startTime}`;
  mkdirSync(PATHS.state, { recursive: true });
  if (!createExclusive(PATHS.resetMarker, marker)) {
    // Read once: the marker of a reset that died is removed only if it is still that one.
    const found = ownerOf(PATHS.resetMarker);
    if (liveHolder(found)) throw new UsageError('another minictr system reset is under way');
    if (found !== null) removeIfOwned(PATHS.resetMarker, found);
    if (!createExclusive(PATHS.resetMarker, marker)) throw new UsageError('another minictr system reset is under way');
  }
  try {
    await resetWithMarker();
  } finally {
    removeIfOwned(PATHS.resetMarker, marker);
  }
  // The state directory goes last, once the marker has: a run that began since keeps what it made.
  try {
    rmdirSync(PATHS.state);
  } catch {
    // not empty (a run has begun) or gone: either way, nothing of the reset is left
  }
}

async function resetWithMarker(): Promise<void> {
  const busy = listContainerDirs().filter((entry) => {
    const phase = phaseOf(entry);
    return phase.responsible !== null && phase.name !== 'removing';
  });
  if (busy.length > 0) {
    const ids = busy.map(({ id }) => shortId(id)).join(', ');
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
  for (const { what, remove } of [...allNetworksRemovals(), ...hostNetworkRemovals()]) await attempt(what, remove);
  await attempt('remove the minictr cgroups', removeCgroupParents);
  await attempt(`remove ${PATHS.layers}`, () => {
    rmSync(PATHS.layers, { recursive: true, force: true });
    try {
      rmdirSync(PATHS.data);
    } catch {
      // gone, or holding data that is not a container's
    }
  });
  // Everything under the state directory but the marker, which must stand until the very end.
  await attempt(`remove ${PATHS.state}`, () => {
    for (const name of readdirSync(PATHS.state)) if (join(PATHS.state, name) !== PATHS.resetMarker) rmSync(join(PATHS.state, name), { recursive: true, force: true });
  });
  if (errors.length > 0) throw new AggregateFailure('system reset', errors);
}
