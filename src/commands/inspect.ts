// `minictr inspect`: everything minictr knows about running containers, as a JSON array on stdout: the record it
// was created with, its process, address and ports, and the host objects its journal says it owns.

import { join } from 'node:path';
import { listContainers, resolveContainer } from '../container/lookup.js';
import { CONTAINERS_DIR, ContainerState } from '../container/state.js';

export async function inspect(refs: string[]): Promise<number> {
  const containers = listContainers();
  const details = refs.map((ref) => {
    const container = resolveContainer(ref, containers);
    const state = new ContainerState(container.id, join(CONTAINERS_DIR, container.id));
    return { ...container, stateDir: state.dir, record: state.record(), hostObjects: state.entries() };
  });
  process.stdout.write(`${JSON.stringify(details, null, 2)}\n`);
  return 0;
}
