// `minictr logs`: a detached container's output, stdout records to stdout and stderr records to stderr, as
// `docker logs` does; -f follows until the container exits, -t prefixes each line with its time.

import { existsSync } from 'node:fs';
import { MinictrError } from '../errors.js';
import { readLog } from '../container/log-reader.js';
import { currentContainers, resolveContainer } from '../container/lookup.js';
import { ContainerState } from '../container/state.js';

export async function logs(ref: string, flags: { follow?: boolean; timestamps?: boolean }): Promise<number> {
  const container = resolveContainer(ref, await currentContainers({ all: true }));
  const state = new ContainerState(container.id, container.dir);
  if (!container.detached || !existsSync(state.logPath)) {
    throw new MinictrError(`container ${ref} has no log: only detached containers (run -d) are logged`, 'lookup');
  }
  const ended = () => existsSync(state.exitPath);
  for await (const record of readLog(state.logPath, { follow: flags.follow ?? false, ended, dir: state.dir })) {
    const out = record.stream === 'stdout' ? process.stdout : process.stderr;
    if (flags.timestamps) out.write(`${record.time} `);
    out.write(record.data);
  }
  return 0;
}
