// `minictr logs`: a detached container's output, stdout records to stdout and stderr records to stderr, as
// `docker logs` does; -f follows until the container exits, -t prefixes each line with its time.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError } from '../errors.js';
import { readLog } from '../container/log-reader.js';
import { listContainers, resolveContainer } from '../container/lookup.js';

export async function logs(ref: string, flags: { follow?: boolean; timestamps?: boolean }): Promise<number> {
  const container = resolveContainer(ref, listContainers({ all: true }));
  const path = join(container.dir, 'container.log');
  if (!container.detached || !existsSync(path)) {
    throw new MinictrError(`container ${ref} has no log: only detached containers (run -d) are logged`, 'lookup');
  }
  const ended = () => existsSync(join(container.dir, 'exit.json'));
  for await (const record of readLog(path, { follow: flags.follow ?? false, ended, dir: container.dir })) {
    const out = record.stream === 'stdout' ? process.stdout : process.stderr;
    if (flags.timestamps) out.write(`${record.time} `);
    out.write(record.data);
  }
  return 0;
}
