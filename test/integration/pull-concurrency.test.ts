// The image store under concurrency and hostile configs: four pulls of one multi-layer image at once end with one
// copy of each blob and layer and a usable image; an image whose WorkingDir is /proc/self/fd/N (the runc
// CVE-2024-21626 class: a directory descriptor of the host left open into the container) is refused, in run and in
// exec, because neither the child nor the joiner holds a directory descriptor when it enters the working directory.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('image store races and hostile working directories (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let registry: TestRegistry;
  let image: TestImage;
  let work = '';
  let data = '';
  const big = `${REGISTRY}/demo/big:v3`;
  const hostile = `${REGISTRY}/demo/fdcwd:fdcwd`;
  const minictr = (args: string[]) => scratch.host.minictr(args, { env: { MINICTR_DATA_ROOT: data } });
  const list = (dir: string) => (existsSync(join(data, dir)) ? readdirSync(join(data, dir)).sort() : []);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-races-'));
    data = join(work, 'data');
    registry = await TestRegistry.start(scratch.host);
    image = await TestImage.build('v1', BUSYBOX_ROOTFS);
    // v2 and v3: two more layers of 2 MiB that do not compress, so that the pulls overlap.
    for (const [from, to] of [['v1', 'v2'], ['v2', 'v3']] as const) {
      const bundle = join(work, `bundle-${to}`);
      await execa('umoci', ['unpack', '--image', `${image.layout}:${from}`, bundle]);
      writeFileSync(join(bundle, `rootfs/${to}.bin`), randomBytes(2 << 20));
      await execa('umoci', ['repack', '--image', `${image.layout}:${to}`, bundle]);
    }
    await image.push(scratch.host, 'v3', 'demo/big');
    await TestImage.build('fdcwd', BUSYBOX_ROOTFS, ['--config.workingdir', '/proc/self/fd/5'], image.layout);
    await image.push(scratch.host, 'fdcwd', 'demo/fdcwd');
  }, 120_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('four pulls of one image at once store each blob and layer once, and the image runs', async () => {
    const results = await Promise.all([1, 2, 3, 4].map(() => minictr(['pull', big])));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    const manifest = image.descriptor('v3');
    const blobs = list('blobs/sha256');
    expect(blobs).toContain(manifest.digest.slice(7));
    expect(blobs).toHaveLength(1 + 1 + 3); // manifest, config, three layers: no duplicates, no leftovers
    expect(list('images')).toHaveLength(1);
    expect(list('tmp')).toEqual([]);

    const run = await minictr(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', big, '-c', 'ls /v2.bin /v3.bin']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('/v2.bin\n/v3.bin');
    expect(list('layers').filter((name) => name.startsWith('.'))).toEqual([]);
    expect(list('layers')).toHaveLength(3);
  });

  it('refuses a WorkingDir or -w of /proc/self/fd/N, in run and in exec', async () => {
    const fromImage = await minictr(['run', '--rm', '--network', 'none', hostile, '/bin/pwd']);
    expect(fromImage.exitCode).toBe(125);
    expect(fromImage.stderr).toMatch(/enter working directory \/proc\/self\/fd\/5/);
    for (const fd of [3, 4, 6, 7, 8, 9, 10]) {
      const result = await minictr(['run', '--rm', '--network', 'none', '-w', `/proc/self/fd/${fd}`, '/bin/pwd']);
      expect(result.exitCode, `fd ${fd}: ${result.stdout}`).toBe(125);
      expect(result.stderr).toMatch(/enter working directory/);
    }
    expect((await minictr(['run', '-d', '--name', 'fdcwd', '--network', 'none', '/bin/sleep', '30'])).exitCode).toBe(0);
    try {
      for (const fd of [3, 4, 5, 6, 7, 8, 9, 10]) {
        const result = await minictr(['exec', '-w', `/proc/self/fd/${fd}`, 'fdcwd', '/bin/pwd']);
        expect(result.exitCode, `fd ${fd}: ${result.stdout}`).toBe(125);
        expect(result.stderr).toMatch(/enter working directory/);
      }
    } finally {
      await minictr(['rm', '-f', 'fdcwd']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
