// `minictr kill` and `minictr stop`: signals to a running container's PID 1, found by id, name or prefix. Signals
// go through a pidfd checked against the recorded start time, so a reused pid is never signalled.

import { UsageError } from '../errors.js';
import { parseDecimal } from '../sys/numbers.js';
import { parseSignal } from '../sys/signal-names.js';
import { error, warn } from '../log.js';
import { currentContainers, isRunning, resolveContainer, type ContainerInfo } from '../container/lookup.js';
import { ContainerState } from '../container/state.js';
import { waitForTeardown } from '../container/wait.js';
import { MAX_TIMEOUT_MS, sendSignal, waitGone } from '../sys/proc.js';

function send(container: ContainerInfo, signal: NodeJS.Signals): boolean {
  return isRunning(container) && sendSignal(container.process!, signal);
}

/** Resolves every ref first (exited containers included), so a typo signals nothing. */
async function targets(refs: readonly string[]): Promise<ContainerInfo[]> {
  const containers = await currentContainers({ all: true });
  return refs.map((ref) => resolveContainer(ref, containers));
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
