// Waiting for a container's teardown, for the commands that end one (stop, rm -f): whoever is responsible for it
// (see phaseOf) does the work; this process only watches, and runs gc when nobody is.

import { setTimeout as sleep } from 'node:timers/promises';
import { MinictrError } from '../errors.js';
import { PATHS } from '../paths.js';
import { sendSignal, waitGone } from '../sys/proc.js';
import { collectGarbageIfAny } from './gc.js';
import { teardownState } from './lookup.js';
import { ContainerState, listContainerDirs, phaseOf } from './state.js';

/**
 * Waits until container `id` is torn down: kept as exited, or removed with --rm. Its owner does it (minictr, a
 * monitor's cleanup, which may take over from a minictr still setting it up) and then exits, so the owner's exit
 * is when to look again; an owner that dies first leaves it to gc, run here. With `kill`, PID 1 is killed at each
 * look while it is recorded. A minute means something is stuck: teardown takes milliseconds.
 */
export async function waitForTeardown(id: string, ref: string, options: { kill?: boolean } = {}): Promise<void> {
  const end = Date.now() + 60_000;
  let lastGc = 0;
  while (teardownState(id) === 'live') {
    const entry = listContainerDirs(PATHS, new Set([id]))[0]; // its own record only, however many others run
    const responsible = entry === undefined ? null : phaseOf(entry).responsible;
    if (Date.now() > end) throw new MinictrError(`${ref}: its teardown has not finished after a minute (owner pid ${entry?.owner?.pid ?? '?'})`);
    const pid1 = options.kill ? new ContainerState(id).entries().find((journaled) => journaled.kind === 'process') : undefined;
    if (pid1 !== undefined) sendSignal(pid1, 'SIGKILL');
    // Whoever is tearing it down: its exit wakes us. The slices bound the wait for one that lingers after its
    // teardown (an owner whose output is still being read, say), and while rm -f waits for a container still being
    // set up to record its PID 1.
    if (responsible !== null) {
      await waitGone(responsible, options.kill && pid1 === undefined ? 20 : 250);
    } else if (Date.now() - lastGc > 500) {
      lastGc = Date.now();
      await collectGarbageIfAny();
    } else {
      await sleep(20); // a gc here has just failed to finish it (and said why): try again shortly, not in a loop
    }
  }
}
