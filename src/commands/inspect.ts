// `minictr inspect`: everything minictr knows about containers, running or exited, as a JSON array on stdout: the
// record it was created with, its status, process, address and ports, and the host objects its journal says it
// still owns.

import { currentContainers, readListed, resolveContainer } from '../container/lookup.js';

export async function inspect(refs: string[]): Promise<number> {
  const containers = await currentContainers({ all: true });
  const details = refs.map((ref) => {
    const container = resolveContainer(ref, containers);
    return readListed(container, (state) => ({ ...container, dir: state.dir, stateDir: state.dir, record: state.record(), hostObjects: state.entries() }));
  });
  process.stdout.write(`${JSON.stringify(details, null, 2)}\n`);
  return 0;
}
