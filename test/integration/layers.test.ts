// Layers of images pulled from a real registry (docker-registry on the scratch host's loopback, images built with
// umoci and pushed with skopeo): pull unpacks them, and a run unpacks nothing; a pull killed while it unpacks leaves
// only what gc removes. And ensureLayers, for a store without unpacked layers (as an older minictr left it): two
// layers, the second deleting a file (a whiteout) and replacing a directory, unpacked once by chain id and stacked
// by a real overlay mount; two unpacks at once, in two processes; an unpack killed with SIGKILL, then swept; a
// damaged blob; a zstd-compressed image.

import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainIds, ensureLayers } from '../../src/image/layers.js';
import { parseImageConfig, parseManifest } from '../../src/image/manifest.js';
import { ImageStore } from '../../src/image/store.js';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';
import { tarArchive } from '../helpers/tar.js';

const DIST = fileURLToPath(new URL('../../dist/image/', import.meta.url));

/** A node process running ensureLayers on `data` for `name` (the compiled code, as the CLI would run it). */
function ensureInChild(data: string, name: string) {
  const script = [
    `import { ensureLayers } from '${DIST}layers.js';`,
    `import { ImageStore } from '${DIST}store.js';`,
    `const store = new ImageStore(${JSON.stringify(data)});`,
    `console.log(JSON.stringify(await ensureLayers(store, store.record(${JSON.stringify(name)}))));`,
  ].join('\n');
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function childResult(child: ReturnType<typeof ensureInChild>): Promise<string[]> {
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`ensureLayers child exited ${code}: ${err}`);
  return JSON.parse(out) as string[];
}

describe.skipIf(!isRoot)('layers (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  let registry: TestRegistry;
  let image: TestImage;
  let big: TestImage;
  let work = '';
  const name = `${REGISTRY}/demo/layered:v2`;
  const bigName = `${REGISTRY}/demo/big:v1`;

  /**
   * A fresh data root holding the pulled images without their unpacked layers (as an older minictr stored them), so
   * that each test unpacks from scratch.
   */
  const freshStore = () => {
    const data = mkdtempSync(join(work, 'data-'));
    const pulled = join(work, 'pulled');
    cpSync(pulled, data, { recursive: true, filter: (path) => path !== join(pulled, 'layers') });
    return new ImageStore(data);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-layers-'));
    registry = await TestRegistry.start(scratch.host);
    // v1: the busybox rootfs; v2: v1 plus a layer that deletes bin/vi and replaces etc/ by a directory with one file.
    image = await TestImage.build('v1', BUSYBOX_ROOTFS);
    const bundle = join(work, 'bundle');
    await execa('umoci', ['unpack', '--image', `${image.layout}:v1`, bundle]);
    rmSync(join(bundle, 'rootfs/bin/vi'));
    rmSync(join(bundle, 'rootfs/etc'), { recursive: true });
    mkdirSync(join(bundle, 'rootfs/etc'));
    writeFileSync(join(bundle, 'rootfs/etc/only'), 'only\n');
    await execa('umoci', ['repack', '--image', `${image.layout}:v2`, bundle]);
    rmSync(bundle, { recursive: true });
    await image.push(scratch.host, 'v2', 'demo/layered');
    // A bigger single-layer image (50 MB of random files) for the kill test.
    const files = join(work, 'big');
    mkdirSync(join(files, 'data'), { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(join(files, 'data', `f${i}`), randomBytes(256 * 1024));
    big = await TestImage.build('v1', files);
    rmSync(files, { recursive: true });
    await big.push(scratch.host, 'v1', 'demo/big');
    const pulled = join(work, 'pulled');
    for (const ref of [name, bigName]) {
      const result = await scratch.host.minictr(['pull', ref], { env: { MINICTR_DATA_ROOT: pulled } });
      expect(result.exitCode, result.stderr).toBe(0);
    }
  }, 180_000);
  afterAll(async () => {
    await registry?.stop();
    image?.remove();
    big?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('unpacks each layer once under its chain id, and the overlay of them is the image', async () => {
    const store = freshStore();
    const record = store.record(name)!;
    const manifest = parseManifest(store.readBlob(record.manifest, 1 << 20), 'manifest');
    const config = parseImageConfig(store.readBlob(manifest.config.digest, 1 << 20), manifest.layers.length, 'config');
    const chain = chainIds(config.rootfs.diff_ids);
    const dirs = await ensureLayers(store, record);
    expect(dirs).toEqual(chain.map((id) => join(store.root, 'layers', id.slice(7), 'diff')));
    expect(readdirSync(join(store.root, 'layers')).sort()).toEqual(chain.map((id) => id.slice(7)).sort());
    const [lower, upper] = dirs as [string, string];
    expect(lstatSync(join(lower, 'bin/busybox')).isFile()).toBe(true);
    const whiteout = lstatSync(join(upper, 'bin/vi'));
    expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);

    // Again: nothing is unpacked anew.
    const before = statSync(upper).ino;
    expect(await ensureLayers(store, record)).toEqual(dirs);
    expect(statSync(upper).ino).toBe(before);

    const merged = join(work, 'merged');
    mkdirSync(merged, { recursive: true });
    const script = `mount -t overlay overlay -o lowerdir=${upper}:${lower} ${merged} && cd ${merged} && ls etc && ls bin | wc -l && test ! -e bin/vi && echo ok`;
    const out = execFileSync('unshare', ['--mount', 'sh', '-c', script], { encoding: 'utf8' });
    const expectedBin = readdirSync(join(BUSYBOX_ROOTFS, 'bin')).length - 1;
    expect(out.trim().split('\n')).toEqual(['only', String(expectedBin), 'ok']);
  });

  it('two processes unpacking the same image at once end with one copy of each layer', async () => {
    const store = freshStore();
    const [a, b] = await Promise.all([childResult(ensureInChild(store.root, name)), childResult(ensureInChild(store.root, name))]);
    expect(a).toEqual(b);
    expect(readdirSync(join(store.root, 'layers')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(readdirSync(join(store.root, 'layers'))).toHaveLength(2);
    expect(lstatSync(join(a[0]!, 'bin/busybox')).isFile()).toBe(true);
    // In one process the two unpacks surely overlap: both run to the end, the second rename finds the name taken.
    const again = freshStore();
    const record = again.record(name)!;
    const [c, d] = await Promise.all([ensureLayers(again, record), ensureLayers(again, record)]);
    expect(c).toEqual(d);
    expect(readdirSync(join(again.root, 'layers')).sort()).toEqual(c.map((dir) => dir.split('/').at(-2)).sort());
  });

  it('an unpack killed with SIGKILL leaves only a temporary directory, which the next ensureLayers removes', async () => {
    const store = freshStore();
    const layers = join(store.root, 'layers');
    const child = ensureInChild(store.root, bigName);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Wait until it is unpacking (its temporary directory holds data/), then kill it.
    for (let i = 0; i < 500; i++) {
      const temps = existsSync(layers) ? readdirSync(layers).filter((n) => n.startsWith('.tmp-')) : [];
      if (temps.length > 0 && existsSync(join(layers, temps[0]!, 'diff/data'))) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    process.kill(child.pid!, 'SIGKILL');
    await exited;
    const left = readdirSync(layers);
    expect(left).toEqual([`.tmp-${child.pid}-${left[0]!.split('-')[2]}`]);
    const dirs = await ensureLayers(store, store.record(bigName)!);
    expect(readdirSync(layers)).toEqual([dirs[0]!.split('/').at(-2)]);
    expect(readdirSync(join(dirs[0]!, 'data'))).toHaveLength(200);
  });

  it('refuses a stored layer blob whose bytes no longer match its digest (a damaged store), and keeps nothing of it', async () => {
    const store = freshStore();
    const record = store.record(name)!;
    const manifest = parseManifest(store.readBlob(record.manifest, 1 << 20), 'manifest');
    const layer = manifest.layers[0]!.digest;
    writeFileSync(store.blobPath(layer), gzipSync(tarArchive([{ name: 'other', content: 'not the layer' }])));
    await expect(ensureLayers(store, record)).rejects.toThrow(new RegExp(`^stored blob ${layer}: received \\d+ bytes with digest sha256:[0-9a-f]{64}, expected`));
    expect(readdirSync(join(store.root, 'layers'))).toEqual([]);
  });

  it('pull unpacks every layer under its chain id, and a run of the image unpacks nothing', async () => {
    const data = join(work, 'pulled');
    const store = new ImageStore(data);
    const record = store.record(name)!;
    const manifest = parseManifest(store.readBlob(record.manifest, 1 << 20), 'manifest');
    const config = parseImageConfig(store.readBlob(manifest.config.digest, 1 << 20), manifest.layers.length, 'config');
    const layers = join(data, 'layers');
    const chain = chainIds(config.rootfs.diff_ids).map((id) => id.slice(7));
    for (const hex of chain) expect(lstatSync(join(layers, hex, 'diff')).isDirectory()).toBe(true);
    // What the layers directory holds: names, and each diff/'s inode and change time (an unpack would replace it).
    const snapshot = () => readdirSync(layers).sort().map((hex) => [hex, statSync(join(layers, hex, 'diff')).ino, statSync(join(layers, hex, 'diff')).ctimeMs]);
    const before = snapshot();
    expect(before.map(([hex]) => hex)).toEqual(expect.arrayContaining(chain));
    const run = await scratch.host.minictr(['run', '--rm', '--network', 'none', '--pull', 'never', '--entrypoint', '/bin/cat', name, '/etc/only'], { env: { MINICTR_DATA_ROOT: data } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toBe('only');
    expect(snapshot()).toEqual(before);
  });

  it('a pull killed with SIGKILL while it unpacks leaves only what gc removes', async () => {
    const data = mkdtempSync(join(work, 'killed-'));
    const layers = join(data, 'layers');
    const pull = scratch.host.start(['pull', bigName], { env: { MINICTR_DATA_ROOT: data } });
    // Wait until it is unpacking (its temporary directory holds data/), then kill it.
    for (let i = 0; i < 1000 && pull.exitCode === null; i++) {
      const temps = existsSync(layers) ? readdirSync(layers).filter((n) => n.startsWith('.tmp-')) : [];
      if (temps.length > 0 && existsSync(join(layers, temps[0]!, 'diff/data'))) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    pull.kill('SIGKILL');
    await pull.catch(() => {});
    expect(pull.exitCode).toBe(null); // killed, not finished
    const left = ['images', 'layers', 'tmp', 'blobs/sha256'].flatMap((dir) => (existsSync(join(data, dir)) ? readdirSync(join(data, dir)).map((n) => `${dir}/${n}`) : []));
    expect(left.filter((path) => path.startsWith('images/'))).toEqual([]);
    expect(left.filter((path) => path.startsWith('layers/') && !path.startsWith('layers/.tmp-'))).toEqual([]);
    expect(left.some((path) => path.startsWith('layers/.tmp-'))).toBe(true);
    const gc = await scratch.host.minictr(['gc'], { env: { MINICTR_DATA_ROOT: data } });
    expect(gc.exitCode, gc.stderr).toBe(0);
    for (const dir of ['images', 'layers', 'tmp', 'blobs/sha256']) expect(existsSync(join(data, dir)) ? readdirSync(join(data, dir)) : [], dir).toEqual([]);
  });

  it('unpacks a zstd-compressed layer', async () => {
    const zstdName = `${REGISTRY}/demo/zstd:v1`;
    const layout = join(work, 'zstd-layout');
    await execa('skopeo', ['copy', '-q', '--dest-compress', '--dest-compress-format', 'zstd', `oci:${image.layout}:v1`, `oci:${layout}:v1`]);
    await scratch.host.must(['skopeo', 'copy', '-q', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${zstdName}`]);
    const data = mkdtempSync(join(work, 'zstd-'));
    const pulled = await scratch.host.minictr(['pull', zstdName], { env: { MINICTR_DATA_ROOT: data } });
    expect(pulled.exitCode, pulled.stderr).toBe(0);
    const store = new ImageStore(data);
    const record = store.record(zstdName)!;
    expect(parseManifest(store.readBlob(record.manifest, 1 << 20), 'manifest').layers[0]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
    const [dir] = await ensureLayers(store, record);
    expect(lstatSync(join(dir!, 'bin/busybox')).isFile()).toBe(true);
    expect(readdirSync(join(dir!, 'bin')).sort()).toEqual(readdirSync(join(BUSYBOX_ROOTFS, 'bin')).sort());
  });
});
