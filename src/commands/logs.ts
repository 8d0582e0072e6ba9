// `minictr logs`: a detached container's output, stdout records to stdout and stderr records to stderr, as
// `docker logs` does, from the oldest rotated file on; -f follows until the container exits (across rotations), -t
// prefixes each line with its time.

import { existsSync } from 'node:fs';
import { MinictrError } from '../errors.js';
import { logFiles, readLog } from '../container/log-reader.js';
import { currentContainers, resolveContainer } from '../container/lookup.js';
import { ContainerState, readRecord } from '../container/state.js';
import { isAlive } from '../sys/proc.js';

export async function logs(ref: string, flags: { follow?: boolean; timestamps?: boolean }): Promise<number> {
  const container = resolveContainer(ref, await currentContainers({ all: true }));
  const state = new ContainerState(container.id, container.dir);
  if (!container.detached || logFiles(state.logPath).length === 0) {
    throw new MinictrError(`container ${ref} has no log: only detached containers (run -d) are logged`, 'lookup');
  }
  // Following ends at exit.json, which the monitor writes once it has logged everything; or when the log's writer
  // is gone without writing it (a killed monitor: PID 1 dies with it, and gc keeps the container as exited).
  const ended = () => {
    if (existsSync(state.exitPath)) return true;
    const record = readRecord(state.dir);
    return record === null || record.status === 'exited' || (record.owner !== null && !isAlive(record.owner));
  };
  for await (const record of readLog(state.logPath, { follow: flags.follow ?? false, ended, dir: state.dir })) {
    const out = record.stream === 'stdout' ? process.stdout : process.stderr;
    if (flags.timestamps) out.write(`${record.time} `);
    out.write(record.data);
  }
  return 0;
}
