// No descriptor of minictr's reaches a process it starts, seen in /proc/PID/fd from the host. A directory of a host
// cgroupfs mount in a container process is runc's CVE-2024-21626 (openat(fd, "../..") escapes to the host's root):
// minictr opens the container's cgroup `tasks` files (v1) or directory (v2) before the clone (cgroups.ts
// openCgroupEntry), and a caller may hand minictr one too. Here minictr is started with fd 100 open on /sys/fs/cgroup
// without close-on-exec (as a careless caller leaves it; Node marks only its low inherited fds close-on-exec), and
// each process a run starts is looked at: PID 1 of `run` and of `run -d`, an `exec`'d process, minictr-oci's create
// and exec, the monitor, minictr-proxy and the network's DNS resolver (the last two once inherited fd 100: they
// outlive the run, posix_spawn and child_process close nothing), and on cgroup v2 (CLONE_INTO_CGROUP's directory)
// PID 1 and an `exec`'d process. None holds anything under /sys/fs/cgroup; a container's process holds only fds 0-2.

import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupV2 } from '../../src/container/cgroups.js';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { CLI, foreignPidNamespaceProcesses, isRoot, monitorProcesses, proxyProcesses, useScratchHost } from '../helpers/scratch-host.js';

const OCI = fileURLToPath(new URL('../../dist/oci/cli.js', import.meta.url));
/** Runs "$@" with fd 100 open on the host's cgroupfs, inheritable (bash: dash takes only fds 0-9). */
const WITH_CGROUP_FD = ['/bin/bash', '-c', 'exec "$@" 100</sys/fs/cgroup', 'sh'];

/** fd number → what it names, for every descriptor of `pid`. */
function descriptors(pid: number): Record<string, string> {
  const fds: Record<string, string> = {};
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      fds[fd] = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // closed while we looked
    }
  }
  return fds;
}

/** What of `pid`'s descriptors names something under /sys/fs/cgroup (labelled with `who` for the failure). */
function cgroupDescriptors(who: string, pid: number): string[] {
  return Object.entries(descriptors(pid))
    .filter(([, target]) => target.startsWith('/sys/fs/cgroup'))
    .map(([fd, target]) => `${who} (pid ${pid}) fd ${fd} → ${target}`);
}

/** A container's process: fds 0-2 only, none of them a cgroup. */
function expectContainerProcess(who: string, pid: number): void {
  expect(cgroupDescriptors(who, pid)).toEqual([]);
  expect(Object.keys(descriptors(pid)).sort(), `${who}: ${JSON.stringify(descriptors(pid))}`).toEqual(['0', '1', '2']);
}

/** Container processes not in `known` that run the command (`sleep`): before its exec, a process is minictr's copy. */
async function waitForNew(known: readonly number[], scratchPid: number): Promise<number[]> {
  const sleeping = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n';
    } catch {
      return false;
    }
  };
  for (let tries = 0; tries < 200; tries++) {
    const fresh = foreignPidNamespaceProcesses(scratchPid).filter((pid) => !known.includes(pid) && sleeping(pid));
    if (fresh.length > 0) return fresh;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no new container process appeared');
}

describe.skipIf(!isRoot)('descriptors of the processes minictr starts (needs root: skipped otherwise)', () => {
  const context = useScratchHost({ prime: true });
  const bundle = mkdtempSync(join(tmpdir(), 'fd-bundle-'));
  afterAll(() => rmSync(bundle, { recursive: true, force: true }));
  const minictr = (args: string[]) => context.host.exec([...WITH_CGROUP_FD, process.execPath, CLI, ...args], { timeout: 20_000 });

  it('run, run -d (its monitor, minictr-proxy, the DNS resolver) and exec hand on no cgroup descriptor', async () => {
    const { host } = context;
    const made = await minictr(['network', 'create', '--ipv6', '--subnet', '10.89.43.0/24', '--subnet', 'fd00:43::/64', 'fdnet']);
    expect(made.exitCode, String(made.stderr)).toBe(0);
    try {
      const detached = await minictr(['run', '-d', '--network', 'fdnet', '--name', 'fdbox', '-p', '8096:80', '/bin/sleep', '1000']);
      expect(detached.exitCode, String(detached.stderr)).toBe(0);
      const [pid1] = await waitForNew([], host.pid);
      expectContainerProcess('run -d: PID 1', pid1!);
      const [monitor] = monitorProcesses(host.pid);
      expect(cgroupDescriptors('minictr-monitor', monitor!)).toEqual([]);
      const [proxy] = proxyProcesses(host.pid);
      expect(cgroupDescriptors('minictr-proxy', proxy!)).toEqual([]);
      const [resolver] = (await host.must(['cat', '/run/minictr/networks/fdnet/resolver'])).split(' ').map(Number);
      expect(cgroupDescriptors('the DNS resolver', resolver!)).toEqual([]);

      const known = foreignPidNamespaceProcesses(host.pid);
      const exec = minictr(['exec', 'fdbox', '/bin/sleep', '1000']);
      const [executed] = await waitForNew(known, host.pid);
      expectContainerProcess('exec', executed!);
      expect((await host.minictr(['rm', '-f', 'fdbox'])).exitCode).toBe(0);
      await exec;

      const before = foreignPidNamespaceProcesses(host.pid);
      const run = minictr(['run', '--rm', '--network', 'none', '/bin/sleep', '3']);
      const [foreground] = await waitForNew(before, host.pid);
      expectContainerProcess('run: PID 1', foreground!);
      expect((await run).exitCode).toBe(0);
    } finally {
      await host.removeAllContainers();
      await host.minictr(['network', 'rm', 'fdnet']);
    }
  }, 120_000);

  // On cgroup v2 PID 1 and exec's joiner are cloned into the container's cgroup by a descriptor of its directory
  // (CLONE_INTO_CGROUP). On a hybrid host the cgroup2 hierarchy is mounted on /sys/fs/cgroup in a namespace of the
  // test's own (as limits.test.ts does), where minictr sees cgroup v2.
  it.skipIf(cgroupV2() || !existsSync('/sys/fs/cgroup/unified/cgroup.procs'))('on cgroup v2, hands on no descriptor of the cgroup directory', async () => {
    const cli = (args: string) => `${process.execPath} ${CLI} ${args} 100</sys/fs/cgroup`;
    // Waits until the cgroup holds N processes running sleep; prints each one's descriptors as "fd>target".
    const show = (count: number) => [
      `for i in $(seq 200); do n=0; for p in $(cat /sys/fs/cgroup/minictr/$id/cgroup.procs); do [ "$(cat /proc/$p/comm)" = sleep ] && n=$((n+1)); done; [ $n -ge ${count} ] && break; sleep 0.025; done`,
      'for p in $(cat /sys/fs/cgroup/minictr/$id/cgroup.procs); do echo "$p $(for f in /proc/$p/fd/*; do printf "%s>%s " "${f##*/}" "$(readlink $f)"; done)"; done',
    ];
    const script = [
      'set -e',
      'mount -t cgroup2 none /sys/fs/cgroup; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/lib; ip link set lo up',
      `id=$(${cli('run -d --network none /bin/sleep 30')})`,
      ...show(1),
      `${cli('exec "$id" /bin/sleep 30')} &`,
      ...show(2),
      `${process.execPath} ${CLI} rm -f "$id" >/dev/null`,
      'wait',
      // This cgroup2 mount is the host's hierarchy: the shared parent minictr made goes too, once empty.
      'rmdir /sys/fs/cgroup/minictr 2>/dev/null || true',
    ].join('\n');
    const result = await execa('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'bash', '-c', script], { reject: false, timeout: 30_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    // PID 1 alone, then PID 1 and exec's process: fds 0-2 each, none a cgroup.
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line, result.stdout).toMatch(/^\d+ 0>\S+ 1>\S+ 2>\S+ ?$/);
    expect(result.stdout).not.toContain('/sys/fs/cgroup');
  }, 60_000);

  it("minictr-oci's create and exec hand on no cgroup descriptor", async () => {
    const { host } = context;
    const root = '/run/minictr-oci-fd';
    const oci = (args: string[]) => host.exec([...WITH_CGROUP_FD, process.execPath, OCI, '--root', root, ...args], { timeout: 20_000 });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({
      ociVersion: '1.0.2',
      process: { args: ['/bin/sleep', '1000'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: BUSYBOX_ROOTFS, readonly: true },
      // /dev on a tmpfs: without it the runtime makes the default device nodes in the shared rootfs itself.
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      ],
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], resources: { pids: { limit: 10 } } },
    }));
    // The container inherits create's stdio: a file, or a pipe would keep the test's reader waiting.
    const output = join(bundle, 'output');
    const created = await host.exec(['/bin/bash', '-c', 'exec "$@" >"$0" 2>&1 </dev/null 100</sys/fs/cgroup', output, process.execPath, OCI, '--root', root, 'create', '--bundle', bundle, 'fdoci']);
    expect(created.exitCode, String(created.stderr)).toBe(0);
    try {
      const [pid1] = foreignPidNamespaceProcesses(host.pid);
      // Before start, PID 1 is still a copy of minictr (not dumpable), with the caller's fd 100; but the container's
      // own cgroup entries are already closed.
      expect(cgroupDescriptors('minictr-oci create: PID 1', pid1!).filter((line) => !line.endsWith('→ /sys/fs/cgroup'))).toEqual([]);
      expect((await oci(['start', 'fdoci'])).exitCode).toBe(0);
      expectContainerProcess('minictr-oci: PID 1 after start', pid1!);
      const known = foreignPidNamespaceProcesses(host.pid);
      const exec = oci(['exec', 'fdoci', '/bin/sleep', '1000']);
      const [executed] = await waitForNew(known, host.pid);
      expect(cgroupDescriptors('minictr-oci exec', executed!)).toEqual([]);
      expect(Object.keys(descriptors(executed!)).filter((fd) => Number(fd) > 2)).toEqual([]);
      await oci(['kill', 'fdoci', 'KILL']);
      await exec;
    } finally {
      await oci(['delete', '--force', 'fdoci']);
      // minictr-oci leaves its parent cgroup (as runc does); the scratch host's cgroups must be empty at its end.
      for (const dir of host.cgroups) {
        try {
          rmdirSync(join(dir, 'minictr-oci'));
        } catch {
          // none in this hierarchy
        }
      }
    }
  }, 60_000);
});
