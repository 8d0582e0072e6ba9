// `minictr kill` and `minictr stop`: signals to a running container's PID 1, found by id, name or prefix. The
// pid is checked against its recorded start time first, so a reused pid is never signalled.

import { constants } from 'node:os';
import { MinictrError, UsageError } from '../errors.js';
import { listContainers, resolveContainer, type ContainerInfo } from '../container/lookup.js';
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
  if (container.process === null || !isAlive(container.process)) return false;
  process.kill(container.process.pid, signal);
  return true;
}

/** Resolves every ref first, so a typo signals nothing. */
function targets(refs: readonly string[]): ContainerInfo[] {
  const containers = listContainers();
  return refs.map((ref) => resolveContainer(ref, containers));
}

export async function kill(refs: string[], flags: { signal?: string }): Promise<number> {
  const signal = parseSignal(flags.signal ?? 'KILL');
  for (const [i, container] of targets(refs).entries()) {
    if (!send(container, signal)) throw new UsageError(`container ${refs[i]} is not running`);
    process.stdout.write(`${refs[i]}\n`);
  }
  return 0;
}

/** SIGTERM, then SIGKILL after the grace time; returns once the container's minictr has torn it down. */
export async function stop(refs: string[], flags: { time?: string }): Promise<number> {
  const grace = Number(flags.time ?? '10');
  if (!(grace >= 0)) throw new UsageError(`invalid --time "${flags.time}": seconds`);
  await Promise.all(
    targets(refs).map(async (container, i) => {
      send(container, 'SIGTERM');
      const deadline = Date.now() + grace * 1000;
      while (container.process !== null && isAlive(container.process) && Date.now() < deadline) await sleep(20);
      send(container, 'SIGKILL');
      // The owner tears down once PID 1 is gone; that takes milliseconds, so a minute means something is stuck.
      for (const end = Date.now() + 60_000; isAlive(container.owner); await sleep(20)) {
        if (Date.now() > end) throw new MinictrError(`stop ${refs[i]}: its minictr (pid ${container.owner.pid}) has not finished tearing it down`);
      }
      process.stdout.write(`${refs[i]}\n`);
    }),
  );
  return 0;
}
