// Podman driving minictr-oci (`podman --runtime`): run --rm, run -d, exec, stop and rm of containers of an image
// imported from the busybox rootfs (never pulled), with --network none, in a scratch host. Podman's default
// seccomp profile goes through src/oci/seccomp.ts on the way. Skipped, saying so, where podman is not installed.
// The limits podman asks for by default (nofile and nproc of 1048576) need CAP_SYS_RESOURCE to raise a hard limit,
// which some sandboxes do not grant: they are given explicitly here.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeEngineWork } from '../helpers/engine-work.js';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { isRoot, ScratchHost, type Result } from '../helpers/scratch-host.js';

const OCI = fileURLToPath(new URL('../../dist/oci/cli.js', import.meta.url));
const hasPodman = ['/usr/bin/podman', '/usr/local/bin/podman'].some((path) => existsSync(path));

describe.skipIf(!isRoot || !hasPodman)('podman --runtime minictr-oci (needs root and podman: skipped otherwise)', () => {
  let host: ScratchHost;
  let work: string;
  const podman = (args: string[]): Promise<Result> =>
    host.exec(['podman', '--root', join(work, 'root'), '--runroot', join(work, 'run'), '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file', '--runtime', OCI, ...args], { timeout: 60_000, reject: false }) as Promise<Result>;
  const limits = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', '--network', 'none'];

  beforeAll(async () => {
    host = await ScratchHost.create();
    work = mkdtempSync(join(tmpdir(), 'oci-podman-'));
    execFileSync('tar', ['-C', BUSYBOX_ROOTFS, '-cf', join(work, 'rootfs.tar'), '.']);
    const imported = await podman(['import', join(work, 'rootfs.tar'), 'localhost/busybox:oci']);
    expect(imported.exitCode, imported.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await podman(['rm', '-af']);
    if (work !== undefined) removeEngineWork(work);
    await host?.dispose();
  });

  it('runs, execs, stops and removes containers', async () => {
    const run = await podman(['run', '--rm', ...limits, 'localhost/busybox:oci', '/bin/sh', '-c', 'echo hello; id -u']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('hello\n0');

    const detached = await podman(['run', '-d', '--name', 'web', ...limits, 'localhost/busybox:oci', '/bin/sleep', '1000']);
    expect(detached.exitCode, detached.stderr).toBe(0);
    const exec = await podman(['exec', 'web', '/bin/cat', '/proc/1/cmdline']);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(exec.stdout).toBe('/bin/sleep\u00001000\u0000');
    expect((await podman(['stop', '-t', '1', 'web'])).exitCode).toBe(0);
    expect((await podman(['rm', 'web'])).exitCode).toBe(0);
    expect((await podman(['ps', '-aq'])).stdout).toBe('');
  }, 120_000);
});
