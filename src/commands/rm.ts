// `minictr rm`: removes exited containers (their record, log, writable layer and name). A running one is refused
// unless -f, which kills it first and waits for its teardown, as `docker rm -f` does.

import { MinictrError } from '../errors.js';
import { removeExited } from '../container/gc.js';
import { isRunning, listContainers, resolveContainer } from '../container/lookup.js';
import { waitForTeardown } from './signal.js';

export async function rm(refs: string[], flags: { force?: boolean }): Promise<number> {
  const containers = listContainers({ all: true });
  const targets = refs.map((ref) => resolveContainer(ref, containers));
  for (const [i, container] of targets.entries()) {
    if (container.status !== 'exited' && !flags.force) {
      throw new MinictrError(`cannot remove container ${refs[i]}: it is ${isRunning(container) ? 'running' : 'being set up'}: stop it first, or use rm -f`, 'lookup');
    }
  }
  for (const [i, container] of targets.entries()) {
    if (container.status !== 'exited') {
      if (isRunning(container)) process.kill(container.process!.pid, 'SIGKILL');
      await waitForTeardown(container, refs[i]!);
    }
    removeExited(container.id);
    process.stdout.write(`${refs[i]}\n`);
  }
  return 0;
}
