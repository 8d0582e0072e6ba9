// `minictr rm`: removes exited containers (their record, log, writable layer and name; with -v, their anonymous
// volumes). A running one is refused unless -f, which kills it first and waits for its teardown, as `docker rm -f`
// does. Every ref is resolved and checked before anything is removed, so a typo or a running container removes
// nothing.

import { existsSync } from 'node:fs';
import { FULL_ID } from '../ids.js';
import { MinictrError } from '../errors.js';
import { collectContainers, removeExited } from '../container/gc.js';
import { currentContainers, isRunning, listContainers, resolveContainer, type ContainerInfo } from '../container/lookup.js';
import { ContainerState } from '../container/state.js';
import { sendSignal, waitGone } from '../sys/proc.js';
import { waitForTeardown } from '../container/wait.js';

/**
 * The containers among which `refs` are resolved: listed without a gc when every ref resolves (a gc looks at every
 * container), and when every ref is a full id only those are read; a ref that does not resolve may name a
 * container whose owner died, which a gc shows as exited.
 */
async function containersFor(refs: string[]): Promise<ContainerInfo[]> {
  const ids = refs.every((ref) => FULL_ID.test(ref)) ? { only: new Set(refs) } : {};
  const listed = listContainers({ all: true, ...ids });
  const resolves = (ref: string) => {
    try {
      resolveContainer(ref, listed);
      return true;
    } catch {
      return false;
    }
  };
  return refs.every(resolves) ? listed : currentContainers({ all: true });
}

export async function rm(refs: string[], flags: { force?: boolean; volumes?: boolean }): Promise<number> {
  const containers = await containersFor(refs);
  const targets = refs.map((ref) => ({ ref, container: resolveContainer(ref, containers) }));
  const live = targets.filter(({ container }) => container.status !== 'exited');
  if (!flags.force && live.length > 0) {
    const { ref, container } = live[0]!;
    throw new MinictrError(`cannot remove container ${ref}: it is ${isRunning(container) ? 'running' : 'being set up'}: stop it first, or use rm -f`, 'lookup');
  }
  // A detached container is killed through its monitor: PID 1 dies with it (PDEATHSIG), and this process tears
  // them all down at once, as gc, instead of one `minictr cleanup` process per container. Not when PID 1 has
  // already exited (exit.json): the monitor is then becoming that teardown, under the same pid. Any other container
  // is killed at PID 1 (waitForTeardown) and torn down by the minictr that runs it.
  const monitors = live.flatMap(({ container }) => {
    const { owner } = container;
    const monitored = container.detached && container.status === 'running' && owner !== null;
    return monitored && !existsSync(new ContainerState(container.id, container.dir).exitPath) && sendSignal(owner, 'SIGKILL') ? [{ id: container.id, owner }] : [];
  });
  // SIGKILL takes effect asynchronously: one gc of them once they are all gone collects them together, and what it
  // collected needs no more waiting.
  await Promise.all(monitors.map(({ owner }) => waitGone(owner, 5000)));
  const collected = new Set(monitors.length > 0 ? await collectContainers(monitors.map(({ id }) => id)) : []);
  const remaining = live.filter(({ container }) => !collected.has(container.id));
  await Promise.all(remaining.map(({ ref, container }) => waitForTeardown(container.id, ref, { kill: true })));
  for (const { ref, container } of targets) {
    await removeExited(container.id, { volumes: flags.volumes === true });
    process.stdout.write(`${ref}\n`);
  }
  return 0;
}
