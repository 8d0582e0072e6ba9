// The built-in image's name (minictr/busybox:builtin) is minictr's: an archive to `import` or `load` cannot take it,
// in a scratch host. It once could: the record then sat beside the built-in rootfs in `images`, under a name that
// `rmi` refuses to remove (it names the built-in rootfs), and that `run` never ran.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('the built-in image name is reserved (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let work = '';
  const storeDir = (sub: string) => join(`/proc/${scratch.host.pid}/root/var/lib/minictr`, sub);
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-reserved-'));
    writeFileSync(join(work, 'rootfs.tar'), (await execa('tar', ['-C', BUSYBOX_ROOTFS, '-c', '.'], { encoding: 'buffer' })).stdout);
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('import refuses it, and stores nothing', async () => {
    for (const name of ['minictr/busybox:builtin', 'docker.io/minictr/busybox:builtin']) {
      const result = await scratch.host.minictr(['import', join(work, 'rootfs.tar'), name]);
      expect(result.exitCode, result.stderr).toBe(125);
      expect(result.stderr).toMatch(/minictr\/busybox:builtin is minictr's built-in rootfs/);
    }
    expect(list(storeDir('images'))).toEqual([]);
    expect(list(storeDir('tmp'))).toEqual([]);
    const images = await scratch.host.minictr(['images']);
    expect(images.stdout.split('\n').filter((line) => line.startsWith('minictr/busybox'))).toHaveLength(1);
  });
});
