// `minictr kill` and `minictr stop`: signals to a running container's PID 1, found by id, name or prefix. Signals
// go through a pidfd checked against the recorded start time, so a reused pid is never signalled.

import { setTimeout as sleep } from 'node:timers/promises';
import { MinictrError, UsageError } from '../errors.js';
import { parseDecimal } from '../sys/numbers.js';
import { parseSignal } from '../sys/signal-names.js';
import { error, warn } from '../log.js';
import { collectGarbage } from '../container/gc.js';
import { currentContainers, isRunning, resolveContainer, teardownState, type ContainerInfo } from '../container/lookup.js';
import { ContainerState, listContainerDirs } from '../container/state.js';
import { isAlive, MAX_TIMEOUT_MS, sendSignal, waitGone, type ProcessRef } from '../sys/proc.js';

function send(container: ContainerInfo, signal: NodeJS.Signals): boolean {
  return isRunning(container) && sendSignal(container.process!, signal);
}

/** Resolves every ref first (exited containers included), so a typo signals nothing. */
async function targets(refs: readonly string[]): Promise<ContainerInfo[]> {
  const containers = await currentContainers({ all: true });
  return refs.map((ref) => resolveContainer(ref, containers));
}

let gcInFlight: Promise<void> | null = null;

/**
 * One gc at a time for all the waits of this process (rm -f of many containers waits for each): a wait that needs a
 * gc while one runs joins it. Another container's failure must not end a wait: it is said, and the wait goes on.
 */
export function sharedGc(): Promise<void> {
  gcInFlight ??= collectGarbage()
    .then(() => undefined, (cause: Error) => warn(cause.message))
    .finally(() => (gcInFlight = null));
  return gcInFlight;
}

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
    const entry = listContainerDirs().find((candidate) => candidate.id === id);
    const owner = entry?.owner ?? null;
    if (Date.now() > end) throw new MinictrError(`${ref}: its teardown has not finished after a minute (owner pid ${owner?.pid ?? '?'})`);
    const pid1 = options.kill ? new ContainerState(id).entries().find((journaled) => journaled.kind === 'process') : undefined;
    if (pid1 !== undefined) sendSignal(pid1, 'SIGKILL');
    // Whoever is tearing it down: its exit wakes us. The slices bound the wait for one that lingers after its
    // teardown (an owner whose output is still being read, say), and while rm -f waits for a container still being
    // set up to record its PID 1.
    const busy = [owner, entry?.collector ?? null].find((process): process is ProcessRef => process !== null && isAlive(process));
    if (busy !== undefined) {
      await waitGone(busy, options.kill && pid1 === undefined ? 20 : 250);
    } else if (Date.now() - lastGc > 500) {
      lastGc = Date.now();
      await sharedGc();
    } else {
      await sleep(20); // a gc here has just failed to finish it (and said why): try again shortly, not in a loop
    }
  }
}

/** Signals every container it can; one that is not running is reported, and makes the exit status 1 (Docker). */
export async function kill(refs: string[], flags: { signal?: string }): Promise<number> {
  const signal = parseSignal(flags.signal ?? 'KILL');
  let status = 0;
  for (const [i, container] of (await targets(refs)).entries()) {
    if (send(container, signal)) {
      process.stdout.write(`${refs[i]}\n`);
    } else {
      error(`cannot kill container ${refs[i]}: it is not running`);
      status = 1;
    }
  }
  return status;
}

/** The signal `stop` sends first: the container's stop signal (its image's StopSignal, or --stop-signal), else SIGTERM. */
function stopSignalOf(container: ContainerInfo): NodeJS.Signals {
  try {
    return parseSignal(new ContainerState(container.id, container.dir).record().config.stopSignal ?? 'SIGTERM');
  } catch {
    return 'SIGTERM'; // gone meanwhile (send finds it not running), or a record written before stop signals
  }
}

/**
 * The stop signal (SIGTERM by default), then SIGKILL after the grace time; returns once the container is torn down.
 * A container that is not running is left as it is, with a note on stderr (Docker's exit status: 0).
 */
export async function stop(refs: string[], flags: { time?: string }): Promise<number> {
  const grace = parseDecimal(flags.time ?? '10') ?? NaN;
  if (!(grace >= 0) || grace * 1000 > MAX_TIMEOUT_MS) {
    throw new UsageError(`invalid --time "${flags.time}": seconds, from 0 to ${Math.floor(MAX_TIMEOUT_MS / 1000)}`);
  }
  await Promise.all(
    (await targets(refs)).map(async (container, i) => {
      const pid1 = container.process;
      if (pid1 === null || !send(container, stopSignalOf(container))) {
        warn(`container ${refs[i]} is not running`);
      } else {
        await waitGone(pid1, grace * 1000);
        send(container, 'SIGKILL');
        await waitForTeardown(container.id, refs[i]!);
      }
      process.stdout.write(`${refs[i]}\n`);
    }),
  );
  return 0;
}
