// `minictr rm`: removes exited containers (their record, log, writable layer and name). A running one is refused
// unless -f, which kills it first and waits for its teardown, as `docker rm -f` does. Every ref is resolved and
// checked before anything is removed, so a typo or a running container removes nothing.

import { MinictrError } from '../errors.js';
import { warn } from '../log.js';
import { collectGarbage, removeExited } from '../container/gc.js';
import { currentContainers, isRunning, resolveContainer } from '../container/lookup.js';
import { isAlive, sendSignal } from '../sys/proc.js';
import { waitForTeardown } from './signal.js';

export async function rm(refs: string[], flags: { force?: boolean }): Promise<number> {
  const containers = await currentContainers({ all: true });
  const targets = refs.map((ref) => ({ ref, container: resolveContainer(ref, containers) }));
  const live = targets.filter(({ container }) => container.status !== 'exited');
  if (!flags.force && live.length > 0) {
    const { ref, container } = live[0]!;
    throw new MinictrError(`cannot remove container ${ref}: it is ${isRunning(container) ? 'running' : 'being set up'}: stop it first, or use rm -f`, 'lookup');
  }
  // A detached container is killed through its monitor: PID 1 dies with it (PDEATHSIG), and this process tears
  // them all down at once, as gc, instead of one `minictr cleanup` process per container. Any other is killed at
  // PID 1 and torn down by the minictr that runs it.
  const monitored = live.filter(({ container }) => container.detached && container.status === 'running' && container.owner !== null && isAlive(container.owner));
  for (const { container } of monitored) sendSignal(container.owner!, 'SIGKILL');
  if (monitored.length > 0) await collectGarbage().catch((cause: Error) => warn(cause.message));
  await Promise.all(live.map(({ ref, container }) => waitForTeardown(container.id, ref, { kill: true })));
  for (const { ref, container } of targets) {
    removeExited(container.id);
    process.stdout.write(`${ref}\n`);
  }
  return 0;
}
