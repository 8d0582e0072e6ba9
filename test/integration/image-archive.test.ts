// Images in and out of the store without a registry, and their removal: `load` of archives skopeo writes (docker
// save's form and an OCI layout), `save` read back by `load` and by skopeo, `import` of a rootfs tar then run, `rmi`
// refused while a container uses the image, `image prune`, and the store's consistency under concurrency and
// kill -9 (two loads at once, a pull racing an rmi, a load killed then `gc`). Everything runs in a scratch host
// whose /var/lib is a tmpfs: the store compared before and after is the scratch host's own.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS, REGISTRY, TestImage, TestRegistry } from '../helpers/registry.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';
import { tarArchive } from '../helpers/tar.js';

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

describe.skipIf(!isRoot)('load, save, import, rmi, image prune (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let image: TestImage;
  let work = '';
  const name = `${REGISTRY}/demo/archived:v1`;
  const minictr = (...args: string[]) => scratch.host.minictr(args);
  const store = () => `/proc/${scratch.host.pid}/root/var/lib/minictr`;

  /** Every file and directory of the image store (blobs, records, layers, temporaries), sorted. */
  const storeFiles = (): string[] =>
    ['blobs/sha256', 'images', 'layers', 'tmp'].flatMap((dir) => (existsSync(join(store(), dir)) ? readdirSync(join(store(), dir)).map((entry) => `${dir}/${entry}`) : [])).sort();

  /** What every record names is there: a record never points at a missing blob. */
  const checkConsistent = (): void => {
    for (const file of readdirSync(join(store(), 'images'))) {
      const record = JSON.parse(readFileSync(join(store(), 'images', file), 'utf8')) as { name: string; manifest: string; config: string };
      const blob = (digest: string) => join(store(), 'blobs/sha256', digest.slice(7));
      const manifest = JSON.parse(readFileSync(blob(record.manifest), 'utf8')) as { layers: { digest: string }[] };
      for (const digest of [record.config, ...manifest.layers.map((layer) => layer.digest)]) expect(existsSync(blob(digest)), `${record.name}: ${digest}`).toBe(true);
    }
    expect(readdirSync(join(store(), 'tmp'))).toEqual([]);
  };

  /** The store's records as name → manifest digest. */
  const records = (): Record<string, string> =>
    Object.fromEntries(
      readdirSync(join(store(), 'images')).map((file) => {
        const record = JSON.parse(readFileSync(join(store(), 'images', file), 'utf8')) as { name: string; manifest: string };
        return [record.name, record.manifest];
      }),
    );

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'minictr-archive-'));
    image = await TestImage.build('v1', BUSYBOX_ROOTFS, ['--config.cmd', '/bin/sh']);
    await execa('skopeo', ['copy', '-q', `oci:${image.layout}:v1`, `docker-archive:${join(work, 'docker.tar')}:${name}`]);
    await execa('skopeo', ['copy', '-q', `oci:${image.layout}:v1`, `oci-archive:${join(work, 'oci.tar')}:${name}`]);
    writeFileSync(join(work, 'rootfs.tar'), (await execa('tar', ['-C', BUSYBOX_ROOTFS, '-c', '.'], { encoding: 'buffer' })).stdout);
  }, 120_000);
  afterAll(() => {
    image?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('loads an OCI archive and a docker save archive written by skopeo, and runs the image', async () => {
    const descriptor = image.descriptor('v1');
    const oci = await minictr('load', '-i', join(work, 'oci.tar'));
    expect(oci.exitCode, oci.stderr).toBe(0);
    expect(oci.stdout).toBe(`Loaded image: ${name}`);
    expect(records()).toEqual({ [name]: descriptor.digest }); // the layout's own manifest, by digest
    const config = (JSON.parse(readFileSync(join(image.layout, 'blobs/sha256', descriptor.digest.slice(7)), 'utf8')) as { config: { digest: string } }).config.digest;
    expect(await minictr('rmi', name)).toMatchObject({ exitCode: 0, stdout: `Untagged: ${name}\nDeleted: ${config}` });
    expect(storeFiles()).toEqual([]);

    // docker save's form, from stdin: skopeo writes the layer uncompressed, so the manifest is made from its files.
    const docker = await scratch.host.minictr(['load'], { inputFile: join(work, 'docker.tar') });
    expect(docker.exitCode, docker.stderr).toBe(0);
    expect(docker.stdout).toBe(`Loaded image: ${name}`);
    const list = JSON.parse((await minictr('images', '--format', 'json')).stdout) as { name: string; id: string }[];
    expect(list.find((entry) => entry.name === name)?.id).toBe(config); // the same image id: the same config
    const ran = await minictr('run', '--rm', name, '/bin/echo', 'from the archive');
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('from the archive');
    checkConsistent();
  });

  it('saves an archive that load and skopeo read (docker-archive and oci-archive), with the same digests back', async () => {
    const archive = join(work, 'saved.tar');
    const saved = await minictr('save', '-o', archive, name);
    expect(saved.exitCode, saved.stderr).toBe(0);
    const before = records();
    const config = JSON.parse((await minictr('images', '--format', 'json')).stdout).find((entry: { name: string }) => entry.name === name).id as string;
    const asDocker = JSON.parse((await execa('skopeo', ['inspect', `docker-archive:${archive}`])).stdout) as { Layers: string[] };
    const diffIds = (JSON.parse((await execa('skopeo', ['inspect', '--config', `docker-archive:${archive}`])).stdout) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    expect(asDocker.Layers).toEqual(diffIds);
    const asOci = JSON.parse((await execa('skopeo', ['inspect', `oci-archive:${archive}`])).stdout) as { Digest: string };
    expect(asOci.Digest).toBe(before[name]);
    // And back: removed, loaded (gzip-compressed this time), the same manifest and id.
    await execa('gzip', ['-k', archive]);
    expect((await minictr('rmi', name)).exitCode).toBe(0);
    const loaded = await minictr('image', 'load', '-i', `${archive}.gz`);
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    expect(records()).toEqual(before);
    expect(JSON.parse((await minictr('image', 'ls', '--format', 'json')).stdout)).toContainEqual(expect.objectContaining({ name, id: config }));
    checkConsistent();
  });

  it('imports a rootfs tar as a one-layer image, which runs', async () => {
    const imported = await minictr('import', join(work, 'rootfs.tar'), 'demo/rootfs:v1');
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^sha256:[0-9a-f]{64}$/);
    const ran = await minictr('run', '--rm', 'demo/rootfs:v1', '/bin/sh', '-c', 'test -x /bin/busybox && echo imported');
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toBe('imported');
    const fromStdin = await scratch.host.minictr(['image', 'import', '-', 'demo/rootfs:v2'], { inputFile: join(work, 'rootfs.tar') });
    expect(fromStdin.exitCode, fromStdin.stderr).toBe(0);
    expect((await minictr('rmi', 'demo/rootfs:v1', 'demo/rootfs:v2')).exitCode).toBe(0);
    checkConsistent();
  });

  it('lists the built-in rootfs as minictr/busybox:builtin, runs it by that name, and will not remove it', async () => {
    const list = await minictr('images');
    expect(list.stdout).toMatch(/^minictr\/busybox\s+builtin\s+builtin\s+/m);
    const ran = await minictr('run', '--rm', 'minictr/busybox:builtin', '/bin/echo', 'builtin');
    expect(ran.stdout).toBe('builtin');
    const rmi = await minictr('rmi', 'minictr/busybox:builtin');
    expect(rmi.exitCode).toBe(1);
    expect(rmi.stderr).toBe("minictr: unable to remove minictr/busybox:builtin: it is minictr's built-in rootfs, not an image of the store");
  });

  it('refuses rmi while a container uses the image (running: even with -f), allows it once the container is removed', async () => {
    const id = (await minictr('run', '-d', '--name', 'user', name, '/bin/sleep', '60')).stdout;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const stored = storeFiles();
    const ps = await minictr('ps');
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)} +127\\.0\\.0\\.1:5000/demo/archived:v1 +user +/bin/sleep 60`, 'm'));
    const inspected = JSON.parse((await minictr('inspect', 'user')).stdout) as { image: { name: string; id: string } }[];
    expect(inspected[0]!.image).toEqual({ name, id: expect.stringMatching(/^sha256:/) });

    const refused = await minictr('rmi', name);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`is being used by running container ${id.slice(0, 12)} (user)`);
    const forced = await minictr('rmi', '-f', name);
    expect(forced.exitCode).toBe(1);
    expect(forced.stderr).toContain('(cannot be forced)');
    expect(storeFiles()).toEqual(stored);

    expect((await minictr('stop', '-t', '0', 'user')).exitCode).toBe(0);
    const exited = await minictr('rmi', name);
    expect(exited.exitCode).toBe(1);
    expect(exited.stderr).toContain(`(must force): container ${id.slice(0, 12)} (user) uses image`);
    expect((await minictr('rm', 'user')).exitCode).toBe(0);
    const removed = await minictr('rmi', name);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(storeFiles()).toEqual([]); // blobs and unpacked layers went with the last image that named them
    const missing = await minictr('rmi', name);
    expect(missing).toMatchObject({ exitCode: 1, stderr: `minictr: No such image: ${name}` });
  });

  it('prunes dangling images (a tag moved away), and with -a every image no container uses', async () => {
    expect((await minictr('load', '-i', join(work, 'oci.tar'))).exitCode).toBe(0);
    const old = records()[name]!;
    // The tag moves to an imported image: the loaded one stays, dangling, as repo@digest (<none> in images).
    expect((await minictr('import', join(work, 'rootfs.tar'), name)).exitCode).toBe(0);
    expect(records()[`${REGISTRY}/demo/archived@${old}`]).toBe(old);
    expect((await minictr('images')).stdout).toMatch(/^127\.0\.0\.1:5000\/demo\/archived\s+<none>\s/m);
    const pruned = await minictr('image', 'prune');
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 1\.\dMB$/);
    expect(Object.keys(records())).toEqual([name]);

    // -a keeps what an (exited) container uses, removes the rest.
    expect((await minictr('import', join(work, 'rootfs.tar'), 'demo/unused:v1')).exitCode).toBe(0);
    expect((await minictr('run', '--name', 'keeper', name, '/bin/true')).exitCode).toBe(0);
    const all = await minictr('image', 'prune', '-a');
    expect(all.exitCode, all.stderr).toBe(0);
    expect(all.stdout).toContain('untagged: demo/unused:v1');
    expect(Object.keys(records())).toEqual([name]);
    expect((await minictr('rmi', '-f', name)).exitCode).toBe(0); // -f: the container has exited
    expect((await minictr('rm', 'keeper')).exitCode).toBe(0);
    expect(storeFiles()).toEqual([]);
  });

  it('two loads of one archive at once both succeed and store it once', async () => {
    const [a, b] = await Promise.all([minictr('load', '-i', join(work, 'oci.tar')), minictr('load', '-i', join(work, 'oci.tar'))]);
    expect([a.exitCode, b.exitCode], `${a.stderr} ${b.stderr}`).toEqual([0, 0]);
    expect(Object.keys(records())).toEqual([name]);
    checkConsistent();
    expect((await minictr('rmi', name)).exitCode).toBe(0);
    expect(storeFiles()).toEqual([]);
  });

  it('a load killed with SIGKILL after storing a blob leaves nothing once gc has run', async () => {
    // A docker save archive of two layers: a small one, committed first, and 64 MiB of random bytes, still being
    // verified when the small one is there.
    const small = tarArchive([{ name: 'small', content: 'small\n' }]);
    const big = tarArchive([{ name: 'big', content: randomBytes(64 << 20) }]);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(small), sha256(big)] } }));
    const archive = tarArchive([
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'config.json', RepoTags: ['demo/killed:v1'], Layers: ['small.tar', 'big.tar'] }]) },
      { name: 'config.json', content: config },
      { name: 'small.tar', content: small },
      { name: 'big.tar', content: big },
    ]);
    writeFileSync(join(work, 'killed.tar'), archive);
    const before = storeFiles();
    const load = scratch.host.start(['load', '-i', join(work, 'killed.tar')]);
    const smallBlob = `blobs/sha256/${sha256(small).slice(7)}`;
    for (let i = 0; i < 2000 && !storeFiles().includes(smallBlob) && load.exitCode === null; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const during = storeFiles();
    load.kill('SIGKILL');
    await load;
    expect(during).toContain(smallBlob); // stored, named by no record yet
    expect(during.some((file) => file.startsWith('tmp/.tmp-'))).toBe(true);
    expect(during.some((file) => file.startsWith('images/'))).toBe(false);
    const gc = await minictr('gc');
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(storeFiles()).toEqual(before);
  });

  it('refuses what is not an image archive or a rootfs tar, and keeps nothing of it', async () => {
    const before = storeFiles();
    writeFileSync(join(work, 'garbage'), randomBytes(4096));
    const garbage = await minictr('load', '-i', join(work, 'garbage'));
    expect(garbage.exitCode).toBe(125);
    expect(garbage.stderr).toContain(`minictr: read ${join(work, 'garbage')}: tar: `);
    const absent = await minictr('load', '-i', join(work, 'absent.tar'));
    expect(absent).toMatchObject({ exitCode: 125, stderr: `minictr: open ${join(work, 'absent.tar')}: ENOENT: no such file or directory, open '${join(work, 'absent.tar')}'` });
    const lying = tarArchive([
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['demo/lying:v1'], Layers: ['l.tar'] }]) },
      { name: 'c.json', content: JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from('other'))] } }) },
      { name: 'l.tar', content: tarArchive([{ name: 'x', content: 'x' }]) },
    ]);
    writeFileSync(join(work, 'lying.tar'), lying);
    const mismatch = await minictr('load', '-i', join(work, 'lying.tar'));
    expect(mismatch.exitCode).toBe(125);
    expect(mismatch.stderr).toContain(`but the config's diff id is ${sha256(Buffer.from('other'))}`);
    const notTar = await minictr('import', join(work, 'garbage'), 'demo/garbage:v1');
    expect(notTar.exitCode).toBe(125);
    expect(notTar.stderr).toContain('not a tar archive of a root filesystem');
    const badName = await minictr('import', join(work, 'rootfs.tar'), 'Bad/Name');
    expect(badName.exitCode).toBe(125);
    const badRef = await minictr('rmi', 'Bad/Name', 'demo/absent:v1');
    expect(badRef.exitCode, badRef.stderr).toBe(125); // a malformed reference is bad input; the other is still looked up
    expect(badRef.stderr).toBe('minictr: invalid reference format "Bad/Name": a repository name is lowercase letters, digits and separators (. _ __ -) between slashes\nminictr: No such image: demo/absent:v1');
    expect(storeFiles()).toEqual(before);
  });

  it('refuses decompression bombs, an archive or a layer that inflates past its bound, and keeps nothing of them', async () => {
    const before = storeFiles();
    // 128 MiB of zeros: about 130 KiB gzip'd, over 200 times that and over the 64 MiB floor decompressed.
    const zeros = tarArchive([{ name: 'zeros', content: Buffer.alloc(128 << 20) }]);
    const bomb = gzipSync(zeros, { level: 9 });
    writeFileSync(join(work, 'bomb.tar.gz'), bomb);
    const archive = await minictr('load', '-i', join(work, 'bomb.tar.gz'));
    expect(archive.exitCode).toBe(125);
    expect(archive.stderr).toBe(`minictr: read ${join(work, 'bomb.tar.gz')}: decompressed, it is more than 64 MiB, over 200 times its ${bomb.length} compressed bytes: refused as a decompression bomb`);
    const imported = await minictr('import', join(work, 'bomb.tar.gz'), 'demo/bomb:v1');
    expect(imported.exitCode).toBe(125);
    expect(imported.stderr).toBe(`minictr: import ${join(work, 'bomb.tar.gz')}: decompressed, it is more than 64 MiB, over 200 times its ${bomb.length} compressed bytes: refused as a decompression bomb`);

    const layered = tarArchive([
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', RepoTags: ['demo/bomb:v1'], Layers: ['l.tar.gz'] }]) },
      { name: 'c.json', content: JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(zeros)] } }) },
      { name: 'l.tar.gz', content: bomb },
    ]);
    writeFileSync(join(work, 'layer-bomb.tar'), layered);
    const layer = await minictr('load', '-i', join(work, 'layer-bomb.tar'));
    expect(layer.exitCode).toBe(125);
    expect(layer.stderr).toMatch(/^minictr: layer 0 \(sha256:[0-9a-f]{64}\) of image 0 of .*: decompressed, it is more than 64 MiB, over 200 times its \d+ compressed bytes: refused as a decompression bomb$/);
    expect(storeFiles()).toEqual(before);
  });

  it('keeps the store consistent when an rmi removes, mid-pull, a layer the pull found already stored', async () => {
    // demo/big shares demo/base's layer and adds 64 MiB of random bytes: while the pull downloads those, the
    // shared layer, "Already exists" for the pull, goes with the rmi of demo/base.
    const registry = await TestRegistry.start(scratch.host);
    const bundle = join(work, 'big-bundle');
    try {
      await execa('umoci', ['unpack', '--image', `${image.layout}:v1`, bundle]);
      writeFileSync(join(bundle, 'rootfs/big'), randomBytes(64 << 20));
      await execa('umoci', ['repack', '--image', `${image.layout}:big`, bundle]);
      await image.push(scratch.host, 'v1', 'demo/base');
      await image.push(scratch.host, 'big', 'demo/big');
      const [base, big] = [`${REGISTRY}/demo/base:v1`, `${REGISTRY}/demo/big:big`];
      expect((await minictr('pull', base)).exitCode).toBe(0);
      // The scratch host's loopback slowed to 100 Mbit/s (5 s for the 64 MiB; the burst holds one of lo's 64 KiB
      // packets): the rmi runs mid-download however fast the pull and however slow the machine.
      await scratch.host.must(['tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '100mbit', 'burst', '512kb', 'latency', '200ms']);
      const pull = scratch.host.start(['pull', big]);
      for (let i = 0; i < 2000 && !storeFiles().some((file) => file.startsWith('tmp/.tmp-')); i++) await new Promise((resolve) => setTimeout(resolve, 5));
      const rmi = await minictr('rmi', base);
      expect(rmi.exitCode, rmi.stderr).toBe(0);
      expect(pull.exitCode).toBe(null); // the rmi ran while the pull was downloading
      const pulled = await pull;
      expect(pulled.exitCode, String(pulled.stderr)).toBe(0);
      checkConsistent();
      expect((await minictr('run', '--rm', big, '/bin/echo', 'ok')).stdout).toBe('ok');
      expect((await minictr('rmi', big)).exitCode).toBe(0);
      expect(storeFiles()).toEqual([]);
    } finally {
      await scratch.host.exec(['tc', 'qdisc', 'del', 'dev', 'lo', 'root']);
      rmSync(bundle, { recursive: true, force: true });
      await registry.stop();
    }
  }, 60_000);
});
