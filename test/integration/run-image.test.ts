// `minictr run IMAGE`: an image built offline (umoci) with a config and two layers, the second deleting a file and
// making a directory opaque, pushed to a real registry on the scratch host's loopback, pulled on first use, its
// config driving the run (Entrypoint, Cmd, Env, WorkingDir, User) under Docker's rules for flags, its layers
// merged by overlayfs with copy-on-write between two containers; plus the failures a user meets first.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('run IMAGE (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let registry: TestRegistry;
  let image: TestImage;
  let work = '';
  const app = `${REGISTRY}/demo/app:v2`;
  const run = (...args: string[]) => scratch.host.minictr(['run', '--rm', ...args]);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-run-image-'));
    registry = await TestRegistry.start(scratch.host);
    image = await TestImage.build('v1', BUSYBOX_ROOTFS);
    // v2: a second layer that deletes bin/vi and replaces srv/ (an opaque directory), with a config.
    const bundle = join(work, 'bundle');
    await execa('umoci', ['unpack', '--image', `${image.layout}:v1`, bundle]);
    rmSync(join(bundle, 'rootfs/bin/vi'));
    mkdirSync(join(bundle, 'rootfs/srv/app'), { recursive: true });
    writeFileSync(join(bundle, 'rootfs/srv/app/greeting'), 'hello from the image\n');
    await execa('umoci', ['repack', '--image', `${image.layout}:v2`, bundle]);
    await execa('umoci', [
      'config', '--image', `${image.layout}:v2`,
      '--config.entrypoint', '/bin/sh', '--config.entrypoint', '-c',
      '--config.cmd', 'cat greeting; echo "$GREETING $MODE"; id -un',
      '--config.env', 'GREETING=hi', '--config.env', 'MODE=image',
      '--config.workingdir', '/srv/app', '--config.user', 'nobody',
    ]);
    await image.push(scratch.host, 'v2', 'demo/app');
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("pulls a missing image and runs its Entrypoint and Cmd, with its Env, WorkingDir and User", async () => {
    const result = await run(app);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('hello from the image\nhi image\nnobody');
    const images = await scratch.host.minictr(['images', '--format', 'json']);
    expect(JSON.parse(images.stdout)).toMatchObject([{ name: app }, { name: 'docker.io/minictr/busybox:builtin', id: 'builtin' }]);
    // The store is persistent data, kept after the run: everything else is as before.
    const withoutStore = (paths: string[]) => paths.filter((path) => !/^(blobs|images|layers|tmp)(\/|$)/.test(path));
    // Waited for as before the run, but for the store, which stays (settle would wait out its timeout for it).
    const after = await scratch.host.settle({ ...scratch.before, data: (await scratch.host.snapshot()).data });
    expect({ ...after, data: withoutStore(after.data) }).toEqual({ ...scratch.before, data: withoutStore(scratch.before.data) });
  });

  it('lets flags override the image: arguments replace Cmd, -e, -w, -u, --entrypoint', async () => {
    const args = await run('-e', 'MODE=flag', app, 'echo "$GREETING $MODE"; pwd');
    expect(args.stdout).toBe('hi flag\n/srv/app');
    const flags = await run('-w', '/tmp', '-u', '0', '--entrypoint', '/bin/pwd', app);
    expect(flags.stdout).toBe('/tmp');
    const id = await run('--entrypoint', '', app, 'id', '-u');
    expect(id.stdout).toBe('65534'); // the image's user: only -u changes it
  });

  it('merges the layers as overlayfs does, and each container writes only its own layer', async () => {
    const merged = await run('-u', '0', '--entrypoint', '/bin/sh', app, '-c', 'ls /bin/vi 2>&1; ls /srv/app; echo changed > /srv/app/greeting; cat /srv/app/greeting');
    expect(merged.stdout).toBe('ls: /bin/vi: No such file or directory\ngreeting\nchanged');
    const fresh = await run('--explain', '--entrypoint', '/bin/cat', app, '/srv/app/greeting');
    expect(fresh.stdout).toBe('hello from the image');
    // --explain names the image, its manifest and its layers, top first, as the overlay stacks them.
    const layers = /^minictr: {3}image: (\S+), manifest (sha256:[0-9a-f]{64}), config sha256:[0-9a-f]{64}; 2 layer\(s\), the overlay's lowerdirs, top first: (\S+)$/m.exec(fresh.stderr);
    expect(layers?.[1], fresh.stderr).toBe(app);
    expect(layers?.[3]?.split(':')).toHaveLength(2);
  });

  it('says what is wrong: a missing command, an image not found, --pull never', async () => {
    const missing = await run(app, 'x');
    expect(missing.exitCode).toBe(127);
    const nope = await run('--entrypoint', 'nope', app);
    expect(nope.exitCode).toBe(127);
    expect(nope.stderr).toBe(`minictr: exec "nope": executable file not found in $PATH in the image's layers`);
    const absent = await run(`${REGISTRY}/demo/absent:v1`);
    expect(absent.exitCode).toBe(125);
    expect(absent.stderr).toContain('not found (HTTP 404); to run a program of the built-in busybox rootfs instead, give its absolute path: minictr run /bin/sh');
    const never = await run('--pull', 'never', `${REGISTRY}/demo/other:v1`);
    expect(never.exitCode).toBe(125);
    expect(never.stderr).toContain('--pull never forbids pulling it');
    const path = await run('--entrypoint', '/bin/sh', '/bin/true');
    expect(path.exitCode).toBe(125);
    expect(path.stderr).toContain('--entrypoint, --pull and --platform apply to images');
  });

  it('keeps running the built-in rootfs for an absolute path', async () => {
    const builtin = await run('/bin/sh', '-c', 'test -e /srv/app || echo "no image here"; test -e /bin/vi && echo vi');
    expect(builtin.exitCode, builtin.stderr).toBe(0);
    expect(builtin.stdout).toBe('no image here\nvi');
  });
});
