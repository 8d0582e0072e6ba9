// How the overlay root is mounted (src/container/overlay.ts decides, native/src/mounts.cc mounts). An image of 130
// layers, whose lowerdir option (about 12 KB of layer paths) is far past the page mount(2) takes: `run` mounts it
// (fsconfig lowerdir+, one layer at a time) and the container sees every layer, the topmost winning, with a whiteout
// of a middle layer hiding its file; `--dry-run`'s script mounts the same overlay with mount(8) through short
// symlinks and sees the same. The image is the busybox rootfs (umoci) plus 129 tiny layers written straight into the
// OCI layout, pushed with skopeo to a real registry on the scratch host's loopback. And a --rootfs whose path holds
// ':' and ',' (lowerdir+ takes it as it is), or is too long for fsconfig (mount(2) takes it). And, under a seccomp
// filter answering fsopen with ENOSYS (test/fixtures/no-fsopen.c), the child's fall back to mount(2): the busybox
// rootfs runs, the tall image is refused (E2BIG, said plainly) and leaves nothing behind.

import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelAtLeast } from '../../src/container/overlay.js';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';
import { tarArchive, type RawEntry } from '../helpers/tar.js';

const ADDED = 129;

/**
 * Layer n (1 to 129) adds /layers/n; /layers/shadowed is written by layers 2 and 120 (the upper must win);
 * /layers/doomed is added by layer 10 and whited out by layer 65.
 */
function layer(n: number): Buffer {
  const entries: RawEntry[] = [{ name: 'layers/', type: '5' }, { name: `layers/${n}`, content: `${n}\n` }];
  if (n === 2 || n === 120) entries.push({ name: 'layers/shadowed', content: `from layer ${n}\n` });
  if (n === 10) entries.push({ name: 'layers/doomed', content: 'doomed\n' });
  if (n === 65) entries.push({ name: 'layers/.wh.doomed' });
  return tarArchive(entries);
}

const CHECK = [
  'test -x /bin/busybox && echo bottom',
  'cat /layers/1 /layers/129',
  'cat /layers/shadowed',
  'test -e /layers/doomed && echo doomed is visible || echo doomed is hidden',
  'ls /layers | wc -l',
].join('; ');
const EXPECTED = ['bottom', '1', '129', 'from layer 120', 'doomed is hidden', String(ADDED + 1)];

describe.skipIf(!isRoot || !kernelAtLeast(release(), 6, 8))('the overlay root (needs root and Linux 6.8: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let registry: TestRegistry;
  let image: TestImage;
  let work = '';
  const name = `${REGISTRY}/demo/tall:v1`;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-many-layers-'));
    await execa('cc', ['-O2', '-o', join(work, 'no-fsopen'), fileURLToPath(new URL('../fixtures/no-fsopen.c', import.meta.url))]);
    registry = await TestRegistry.start(scratch.host);
    image = await TestImage.build('base', BUSYBOX_ROOTFS);
    image.addLayers('base', 'v1', Array.from({ length: ADDED }, (_, i) => layer(i + 1)));
    await image.push(scratch.host, 'v1', 'demo/tall');
    const pulled = await scratch.host.minictr(['pull', name]);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs it: every layer is seen, the upper one wins, a whiteout hides its file', async () => {
    const result = await scratch.host.minictr(['run', '--rm', '--network', 'none', name, '/bin/sh', '-c', CHECK]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split('\n')).toEqual(EXPECTED);
  });

  it("--dry-run's script mounts the same overlay with mount(8), through short symlinks", async () => {
    const dry = await scratch.host.minictr(['run', '--rm', '--dry-run', '--network', 'none', name, '/bin/sh', '-c', CHECK]);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`ln -s /var/lib/minictr/layers/`);
    expect(dry.stdout).toMatch(/mount -t overlay overlay -o lowerdir=l\/0:l\/1:.*:l\/129,upperdir=/);
    const script = join(work, 'run.sh');
    writeFileSync(script, `${dry.stdout}\n`);
    const result = await scratch.host.exec(['bash', script], { timeout: 20_000 });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout).split('\n')).toEqual(EXPECTED);
  });

  it("takes a --rootfs with ':' and ',' in its path through lowerdir+, and one too long for fsconfig through mount(2)", async () => {
    const rootMount = "grep ' / ' /proc/self/mounts | grep -o 'lowerdir[+]*='";
    const special = join(work, 'a:b,c');
    const long = join(work, 'd'.repeat(200), 'e'.repeat(100));
    for (const dir of [special, long]) {
      mkdirSync(dir, { recursive: true });
      cpSync(BUSYBOX_ROOTFS, dir, { recursive: true, verbatimSymlinks: true });
    }
    const colon = await scratch.host.minictr(['run', '--rm', '--network', 'none', '--rootfs', special, '/bin/sh', '-c', rootMount]);
    expect(colon.exitCode, colon.stderr).toBe(0);
    expect(colon.stdout).toBe('lowerdir+=');
    const legacy = await scratch.host.minictr(['run', '--rm', '--network', 'none', '--rootfs', long, '/bin/sh', '-c', rootMount]);
    expect(legacy.exitCode, legacy.stderr).toBe(0);
    expect(legacy.stdout).toBe('lowerdir=');
  });

  it('falls back to mount(2) where fsopen is missing, and refuses the layers it cannot take rather than cut them', async () => {
    const noFsopen = (args: string[]) => scratch.host.exec([join(work, 'no-fsopen'), process.execPath, CLI, 'run', '--rm', '--network', 'none', ...args], { timeout: 20_000 });
    const small = await noFsopen(['/bin/sh', '-c', "grep ' / ' /proc/self/mounts | grep -o 'lowerdir[+]*='"]);
    expect(small.exitCode, String(small.stderr)).toBe(0);
    expect(String(small.stdout)).toBe('lowerdir=');
    const before = await scratch.host.snapshot();
    const tall = await noFsopen([name, '/bin/true']);
    expect(tall.exitCode).toBe(125);
    expect(String(tall.stderr)).toMatch(/^minictr: mount overlay rootfs .* in container: Argument list too long: the kernel refused the new mount API's lowerdir\+/);
    expect(await scratch.host.settle(before)).toEqual(before);
  });
});
