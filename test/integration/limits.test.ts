// Resource limits through cgroups, against the real kernel: memory (OOM kill, exit 137), pids (a fork bomb stops),
// a CPU quota measured from the process's own CPU time, and no cgroup left after any way of ending.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { containerPidOf, isRoot, useScratchHost } from '../helpers/scratch-host.js';

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

describe.skipIf(!isRoot)('resource limits (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  it('kills a process allocating past --memory (exit 137), and lets one below it run', async () => {
    const big = await scratch.host.minictr(['run', '--rm', '-m', '32m', '/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    expect(big.exitCode, big.stderr).toBe(137);
    const small = await scratch.host.minictr(['run', '--rm', '-m', '128m', '/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    expect(small.exitCode, small.stderr).toBe(0);
    expect(scratch.host.containerCgroups()).toEqual([]);
  });

  it('stops a fork bomb at --pids-limit, in bounded time', async () => {
    const started = Date.now();
    const result = await scratch.host.minictr([
      'run', '--rm', '--pids-limit', '8', '/bin/sh', '-c', 'n=0; while [ $n -lt 50 ]; do sleep 2 & n=$((n+1)); done; wait',
    ]);
    expect(result.stderr).toMatch(/can't fork/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(scratch.host.containerCgroups()).toEqual([]);
  });

  it('holds a busy loop close to --cpus 0.5', async () => {
    const run = scratch.host.start(['run', '--rm', '--cpus', '0.5', '/bin/sh', '-c', 'while :; do :; done']);
    const pid = await containerPidOf(run.pid!);
    const before = cpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const used = cpuSeconds(pid) - before;
    expect(used / 3).toBeGreaterThan(0.35);
    expect(used / 3).toBeLessThan(0.65);
    process.kill(pid, 'SIGKILL');
    expect((await run).exitCode).toBe(137);
    expect(scratch.host.containerCgroups()).toEqual([]);
  });

  it('removes the cgroup after SIGKILL of minictr, through gc', async () => {
    const crashed = await scratch.host.start(['run', '--rm', '-m', '64m', '--pids-limit', '20', '/bin/sh', '-c', 'sleep 5'], {
      env: { MINICTR_CRASH_AT: 'running' },
    });
    expect(crashed.signal).toBe('SIGKILL');
    expect((await scratch.host.minictr(['gc'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it.each([
    [['-m', '1k'], /invalid --memory "1k"/],
    [['--memory-swap', '1g'], /--memory-swap needs --memory/],
    [['-m', '64m', '--memory-swap', '32m'], /--memory-swap must be at least --memory/],
    [['--cpus', 'lots'], /invalid --cpus "lots"/],
    [['--pids-limit', '0'], /invalid --pids-limit "0"/],
  ])('rejects %j before creating anything', async (args, message) => {
    const result = await scratch.host.minictr(['run', '--rm', ...args, '/bin/true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(message);
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });
});
