// `minictr cleanup ID`: not for users. minictr-monitor execs it when a detached container's PID 1 has exited, so the
// teardown runs as the container's recorded owner (same pid, same start time as the monitor).

import { cleanupContainer } from '../container/gc.js';

export async function cleanup(id: string): Promise<number> {
  await cleanupContainer(id);
  return 0;
}
