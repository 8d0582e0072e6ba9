// A neighbour workload for the whole test run (vitest globalSetup): while the suite runs, it keeps creating and
// ending processes in PID namespaces of their own and cgroups of its own, from the machine's own namespaces, as
// another container engine on the same host would. The suite must pass beside it: every snapshot counts only what
// its scratch host owns (see ownedByScratch in scratch-host.ts). It only runs as root (the integration tests are
// skipped otherwise) and it ends, and removes, exactly what it started.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;
/** A v1 hierarchy (or the v2 root) the neighbour's cgroups go in: the machine's root, not the tests' parent. */
const CGROUP_ROOT = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((dir) => existsSync(join(dir, 'cgroup.procs')));

/** rmdir of a cgroup can race the accounting of its last process's exit (EBUSY): a few tries. */
async function removeCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  process.stderr.write(`busy-host: could not remove ${dir}\n`);
}

export default function setup(): () => Promise<void> {
  if (!isRoot) return async () => undefined;
  let stopping = false;
  let round = 0;
  const running = new Set<Promise<void>>();

  /** One neighbour "container": a sleeper as PID 1 of a new PID namespace, in a cgroup made for it. */
  function neighbour(): Promise<void> {
    const cgroup = CGROUP_ROOT === undefined ? null : join(CGROUP_ROOT, `minictr-test-neighbour-${process.pid}-${round++}`);
    if (cgroup !== null) mkdirSync(cgroup);
    const child: ChildProcess = spawn('unshare', ['--pid', '--fork', '--', 'sleep', '0.3'], { stdio: 'ignore' });
    if (cgroup !== null && child.pid !== undefined) {
      try {
        writeFileSync(join(cgroup, 'cgroup.procs'), String(child.pid));
      } catch {
        // it has already exited
      }
    }
    return new Promise<void>((resolve) => {
      child.on('close', () => {
        if (cgroup === null) resolve();
        else void removeCgroup(cgroup).then(resolve);
      });
      child.on('error', () => resolve());
    });
  }

  const timer = setInterval(() => {
    if (stopping || running.size >= 4) return;
    const done = neighbour().finally(() => running.delete(done));
    running.add(done);
  }, 150);

  return async () => {
    stopping = true;
    clearInterval(timer);
    await Promise.all(running);
  };
}
