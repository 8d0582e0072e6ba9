// Resource limits through cgroups, against the real kernel: memory (OOM kill, exit 137), pids (a fork bomb stops),
// a CPU quota measured from the process's own CPU time, PID 1 in its cgroups before it runs anything (and a clear
// failure when it cannot join them), and no cgroup left after any way of ending.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { cgroupV2 } from '../../src/container/cgroups.js';
import { CLI, containerPidOf, isRoot, useScratchHost } from '../helpers/scratch-host.js';

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

  it('has PID 1 in the cgroup of every controller it is limited by (and the device policy) before it runs anything', async () => {
    const result = await scratch.host.minictr(['run', '--rm', '--network', 'none', '-m', '64m', '--cpus', '0.5', '--pids-limit', '20', '/bin/cat', '/proc/self/cgroup']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const id = /\/minictr\/([0-9a-f]{64})$/.exec(lines.find((line) => line.includes('/minictr/')) ?? '')?.[1];
    expect(id, result.stdout).toBeDefined();
    // "hierarchy:controllers:path"; v2's one line has no controllers.
    for (const controller of cgroupV2() ? [''] : ['memory', 'cpu', 'pids', 'devices']) {
      const line = lines.find((entry) => entry.split(':')[1]!.split(',').includes(controller));
      expect(line, `${controller}: ${result.stdout}`).toMatch(new RegExp(`/minictr/${id}$`));
    }
    expect(scratch.host.containerCgroups()).toEqual([]);
  });

  // A real-time minictr hands SCHED_FIFO on to its child, and the kernel refuses a real-time task a cpu cgroup
  // without real-time runtime (a new cgroup has none): PID 1's own join fails, before anything runs.
  it.skipIf(cgroupV2() || !existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us'))(
    'fails with the join step and the cgroup named, exit 125, nothing left behind, when PID 1 cannot join its cgroup',
    async () => {
      const scratchCpu = scratch.host.cgroups.find((dir) => dir.startsWith('/sys/fs/cgroup/cpu/'))!;
      // The scratch host's own cgroup, so that chrt may run in it, and Node not be throttled to a trickle of CPU time.
      writeFileSync(join(scratchCpu, 'cpu.rt_runtime_us'), '300000');
      try {
        for (const network of [[], ['--network', 'none']]) {
          const result = await scratch.host.exec(['chrt', '-f', '1', process.execPath, CLI, 'run', '--rm', ...network, '--cpus', '0.5', '/bin/true']);
          expect(result.exitCode, String(result.stderr)).toBe(125);
          expect(String(result.stderr)).toMatch(/join the container's cgroup .*\/sys\/fs\/cgroup\/cpu\/.*\/minictr\/[0-9a-f]{64}.*: Invalid argument/);
          expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
        }
      } finally {
        writeFileSync(join(scratchCpu, 'cpu.rt_runtime_us'), '0');
      }
    },
  );

  // On a hybrid host the cgroup2 hierarchy (controllers bound to v1, so only the device program's cgroup) is mounted
  // on /sys/fs/cgroup in a namespace of the test's own, where minictr sees cgroup v2; on a v2 host every test here is.
  it.skipIf(cgroupV2() || !existsSync('/sys/fs/cgroup/unified/cgroup.procs'))(
    'on cgroup v2, clones PID 1 (attached and detached) and exec\'s process into the container\'s cgroup',
    async () => {
      const cli = (args: string) => `${process.execPath} ${CLI} ${args}`;
      const script = [
        'set -e',
        'mount -t cgroup2 none /sys/fs/cgroup; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib; ip link set lo up',
        `${cli('run --rm --network none /bin/cat /proc/self/cgroup')} | grep '^0::'`,
        `id=$(${cli('run -d --network none /bin/sleep 30')})`,
        `echo "detached $id"; grep '^0::' /proc/$(cat /sys/fs/cgroup/minictr/$id/cgroup.procs)/cgroup`,
        `${cli('exec "$id" /bin/cat /proc/self/cgroup')} | grep '^0::'`,
        `${cli('rm -f "$id"')} >/dev/null`,
        'echo "left: $(find /sys/fs/cgroup/minictr -mindepth 1 -type d 2>/dev/null | wc -l)"',
        // This cgroup2 mount is the host's hierarchy: the shared parent minictr made goes too, once empty.
        'rmdir /sys/fs/cgroup/minictr 2>/dev/null || true',
      ].join('\n');
      const result = await execa('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', script], { reject: false, timeout: 30_000 });
      expect(result.exitCode, result.stderr).toBe(0);
      const [attached, detached, pid1, exec, left] = result.stdout.split('\n');
      expect(attached).toMatch(/^0::\/minictr\/[0-9a-f]{64}$/);
      const id = detached!.split(' ')[1]!;
      expect(pid1).toBe(`0::/minictr/${id}`);
      expect(exec).toBe(`0::/minictr/${id}`);
      expect(left).toBe('left: 0');
    },
  );

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
