// `minictr kill` and `minictr stop`: signals to a running container's PID 1, found by id, name or prefix. The
// pid is checked against its recorded start time first, so a reused pid is never signalled.

import { constants } from 'node:os';
import { MinictrError, UsageError } from '../errors.js';
import { warn } from '../log.js';
import { isRunning, listContainers, resolveContainer, type ContainerInfo } from '../container/lookup.js';
import { isAlive } from '../sys/proc.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function parseSignal(name: string): NodeJS.Signals {
  const upper = name.toUpperCase();
  const signal = (/^\d+$/.test(upper)
    ? Object.entries(constants.signals).find(([, n]) => n === Number(upper))?.[0]
    : upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals | undefined;
  if (signal === undefined || !(signal in constants.signals)) throw new UsageError(`invalid signal "${name}"`);
  return signal;
}

function send(container: ContainerInfo, signal: NodeJS.Signals): boolean {
  if (!isRunning(container)) return false;
  process.kill(container.process!.pid, signal);
  return true;
}

/** Resolves every ref first (exited containers included), so a typo signals nothing. */
function targets(refs: readonly string[]): ContainerInfo[] {
  const containers = listContainers({ all: true });
  return refs.map((ref) => resolveContainer(ref, containers));
}

/** Waits until the container's owner has torn it down (kept as exited, or removed with --rm). */
export async function waitForTeardown(container: ContainerInfo, ref: string): Promise<void> {
  // The owner tears down once PID 1 is gone; that takes milliseconds, so a minute means something is stuck.
  for (const end = Date.now() + 60_000; container.owner !== null && isAlive(container.owner); await sleep(20)) {
    if (Date.now() > end) throw new MinictrError(`${ref}: its owner (pid ${container.owner.pid}) has not finished tearing it down`);
  }
}

export async function kill(refs: string[], flags: { signal?: string }): Promise<number> {
  const signal = parseSignal(flags.signal ?? 'KILL');
  for (const [i, container] of targets(refs).entries()) {
    if (!send(container, signal)) throw new MinictrError(`cannot kill container ${refs[i]}: it is not running`, 'lookup');
    process.stdout.write(`${refs[i]}\n`);
  }
  return 0;
}

/**
 * SIGTERM, then SIGKILL after the grace time; returns once the container is torn down. A container that is not
 * running is left as it is, with a note on stderr (Docker's exit status: 0).
 */
export async function stop(refs: string[], flags: { time?: string }): Promise<number> {
  const grace = Number(flags.time ?? '10');
  if (!(grace >= 0)) throw new UsageError(`invalid --time "${flags.time}": seconds`);
  await Promise.all(
    targets(refs).map(async (container, i) => {
      if (!send(container, 'SIGTERM')) {
        warn(`container ${refs[i]} is not running`);
      } else {
        const deadline = Date.now() + grace * 1000;
        while (isRunning(container) && Date.now() < deadline) await sleep(20);
        send(container, 'SIGKILL');
        await waitForTeardown(container, refs[i]!);
      }
      process.stdout.write(`${refs[i]}\n`);
    }),
  );
  return 0;
}
