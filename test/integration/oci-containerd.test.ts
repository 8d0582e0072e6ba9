// containerd driving minictr-oci through its runc shim (`ctr run --runc-binary`): run --rm with the output, run -d,
// exec, kill, delete, for an image made from the busybox rootfs by `minictr import` and `minictr save` (never
// pulled). containerd runs in a scratch host with its own root, state and socket, and is stopped afterwards.
// Skipped, saying so, where containerd is not installed.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeEngineWork } from '../helpers/engine-work.js';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { CLI, isRoot, ScratchHost, type Result } from '../helpers/scratch-host.js';

const OCI = fileURLToPath(new URL('../../dist/oci/cli.js', import.meta.url));
const hasContainerd = ['containerd', 'ctr', 'containerd-shim-runc-v2'].every((name) => existsSync(`/usr/bin/${name}`));

describe.skipIf(!isRoot || !hasContainerd)('containerd with --runc-binary minictr-oci (needs root and containerd: skipped otherwise)', () => {
  let host: ScratchHost;
  let work: string;
  let daemon: ResultPromise | undefined;
  const ctr = (args: string[]): Promise<Result> =>
    host.exec(['ctr', '-a', join(work, 'containerd.sock'), ...args], { timeout: 60_000, reject: false }) as Promise<Result>;

  beforeAll(async () => {
    host = await ScratchHost.create();
    work = mkdtempSync(join(tmpdir(), 'oci-ctrd-'));
    // 1. An image archive from the busybox rootfs, through minictr's own store in the work directory.
    execFileSync('tar', ['-C', BUSYBOX_ROOTFS, '-cf', join(work, 'rootfs.tar'), '.']);
    const env = { MINICTR_DATA_ROOT: join(work, 'minictr') };
    for (const args of [['import', join(work, 'rootfs.tar'), 'localhost/busybox:oci'], ['save', '-o', join(work, 'image.tar'), 'localhost/busybox:oci']]) {
      const result = (await host.exec([process.execPath, CLI, ...args], { env, reject: false })) as Result;
      expect(result.exitCode, result.stderr).toBe(0);
    }
    // 2. containerd of its own, and the image in it.
    writeFileSync(join(work, 'config.toml'), [
      'version = 2', `root = "${join(work, 'root')}"`, `state = "${join(work, 'state')}"`,
      '[grpc]', `  address = "${join(work, 'containerd.sock')}"`, '',
    ].join('\n'));
    daemon = host.exec(['containerd', '--config', join(work, 'config.toml')], { reject: false });
    for (let i = 0; i < 100 && !existsSync(join(work, 'containerd.sock')); i++) await new Promise((r) => setTimeout(r, 100));
    const imported = await ctr(['image', 'import', join(work, 'image.tar')]);
    expect(imported.exitCode, imported.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    daemon?.kill('SIGTERM');
    await daemon;
    if (work !== undefined) removeEngineWork(work);
    await host?.dispose();
  });

  it('runs, execs, kills and deletes tasks', async () => {
    const run = await ctr(['run', '--rm', '--runc-binary', OCI, 'localhost/busybox:oci', 't1', '/bin/sh', '-c', 'echo hello from containerd']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('hello from containerd');

    expect((await ctr(['run', '-d', '--runc-binary', OCI, 'localhost/busybox:oci', 't2', '/bin/sleep', '1000'])).exitCode).toBe(0);
    const exec = await ctr(['task', 'exec', '--exec-id', 'e1', 't2', '/bin/cat', '/proc/1/cmdline']);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(exec.stdout).toBe('/bin/sleep\u00001000\u0000');
    expect((await ctr(['task', 'kill', '-s', 'SIGKILL', 't2'])).exitCode).toBe(0);
    let tasks = '';
    for (let i = 0; i < 50 && !/STOPPED/.test(tasks); i++) {
      tasks = (await ctr(['task', 'ls'])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(tasks).toMatch(/t2\s+\d+\s+STOPPED/);
    expect((await ctr(['task', 'delete', 't2'])).exitCode).toBe(0);
    expect((await ctr(['container', 'delete', 't2'])).exitCode).toBe(0);
  }, 120_000);
});
