// Volumes (-v, --mount, --tmpfs, named volumes) and cp, in a scratch host: what a container writes in a bind is the
// host's, a read-only bind refuses writes, named volumes persist and are seeded from the image by their first
// container, a volume in use cannot be removed, and hostile symlinks (planted by an image or by an earlier
// container in a volume) never make a mount or a copy land outside the container's root.

import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

function expectOk(result: Result): void {
  expect(result.exitCode, `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0);
}

describe.skipIf(!isRoot)('volumes and cp (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;
  /** A host directory outside every container root, with a file whose content must never change. */
  let sentinel: string;
  /** A copy of the busybox rootfs with image content at /data and hostile symlinks at /evil and /evil2. */
  let rootfs: string;
  const run = (args: string[], script: string) => scratch.host.minictr(['run', '--rm', '--network', 'none', ...args, '/bin/sh', '-c', script]);

  beforeAll(async () => {
    // The volumes directory, once made, stays (it carries the store's lock): the baseline has it.
    expectOk(await scratch.host.minictr(['volume', 'create', 'baseline']));
    expectOk(await scratch.host.minictr(['volume', 'rm', 'baseline']));
    scratch.before = await scratch.host.settle(await scratch.host.snapshot());
    dir = mkdtempSync(join(tmpdir(), 'minictr-volumes-'));
    sentinel = join(dir, 'sentinel');
    mkdirSync(sentinel);
    writeFileSync(join(sentinel, 'keep'), 'untouched\n');
    rootfs = join(dir, 'rootfs');
    cpSync(BUSYBOX_ROOTFS, rootfs, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(rootfs, 'data/sub'), { recursive: true });
    writeFileSync(join(rootfs, 'data/seed.txt'), 'from the image\n');
    chownSync(join(rootfs, 'data/seed.txt'), 1234, 2345);
    chmodSync(join(rootfs, 'data/seed.txt'), 0o640);
    symlinkSync('seed.txt', join(rootfs, 'data/link'));
    symlinkSync(sentinel, join(rootfs, 'evil')); // absolute: the host's sentinel, were it followed on the host
    symlinkSync(`../../../../../../../..${sentinel}`, join(rootfs, 'evil2'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const sentinelUntouched = () => {
    expect(readdirSync(sentinel)).toEqual(['keep']);
    expect(readFileSync(join(sentinel, 'keep'), 'utf8')).toBe('untouched\n');
  };

  it('-v HOST:CTR: the container writes into the host directory; :ro refuses writes with EROFS', async () => {
    const host = join(dir, 'rw');
    mkdirSync(host);
    writeFileSync(join(host, 'in'), 'from the host\n');
    const rw = await run(['-v', `${host}:/data`], 'cat /data/in; echo from the container > /data/out');
    expectOk(rw);
    expect(rw.stdout).toBe('from the host');
    expect(readFileSync(join(host, 'out'), 'utf8')).toBe('from the container\n');
    const ro = await run(['-v', `${host}:/data:ro`], 'echo x > /data/out2; grep " /data " /proc/mounts');
    expect(ro.stderr).toMatch(/Read-only file system/);
    expect(ro.stdout).toMatch(/ \/data \S+ ro[,\s]/);
    expect(existsSync(join(host, 'out2'))).toBe(false);
    const mount = await run(['--mount', `type=bind,source=${host},target=/m,readonly`], 'touch /m/x');
    expect(mount.stderr).toMatch(/Read-only file system/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("a file bound on /etc/resolv.conf is the container's, read-only, instead of the one minictr writes", async () => {
    const file = join(dir, 'resolv.conf');
    writeFileSync(file, 'nameserver 192.0.2.53\n');
    const result = await run(['-v', `${file}:/etc/resolv.conf:ro`], 'cat /etc/resolv.conf; echo x >> /etc/resolv.conf');
    expect(result.stdout).toBe('nameserver 192.0.2.53');
    expect(result.stderr).toMatch(/Read-only file system/);
    expect(readFileSync(file, 'utf8')).toBe('nameserver 192.0.2.53\n');
  });

  it('-v of a missing host path creates it as a directory, as Docker does', async () => {
    const missing = join(dir, 'made/by/run');
    expectOk(await run(['-v', `${missing}:/made`], 'touch /made/file'));
    expect(statSync(missing).isDirectory()).toBe(true);
    expect(readdirSync(missing)).toEqual(['file']);
  });

  it('a named volume persists across containers and is seeded from the image by its first one', async () => {
    const first = await run(['--rootfs', rootfs, '-v', 'seeded:/data'], 'ls -ln /data/seed.txt; readlink /data/link; echo written > /data/new');
    expectOk(first);
    expect(first.stdout).toMatch(/^-rw-r-----\s+1 1234\s+2345 .* \/data\/seed.txt\nseed.txt$/);
    // The second container sees the first one's file; a volume is seeded once, even from another image.
    const second = await run(['-v', 'seeded:/data'], 'cat /data/new /data/seed.txt');
    expectOk(second);
    expect(second.stdout).toBe('written\nfrom the image');
    const listed = await scratch.host.minictr(['volume', 'ls', '-q']);
    expect(listed.stdout).toBe('seeded');
    expectOk(await scratch.host.minictr(['volume', 'rm', 'seeded']));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('volume rm is refused while a container, running or exited, uses the volume; rm -v removes anonymous ones', async () => {
    expectOk(await scratch.host.minictr(['volume', 'create', 'busy']));
    const started = await scratch.host.minictr(['run', '-d', '--name', 'user', '--network', 'none', '-v', 'busy:/v', '-v', '/anon', '/bin/sleep', '60']);
    expectOk(started);
    const refused = await scratch.host.minictr(['volume', 'rm', 'busy']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/cannot remove volume busy: it is in use by container [0-9a-f]{12}/);
    expectOk(await scratch.host.minictr(['stop', '-t', '0', 'user']));
    expect((await scratch.host.minictr(['volume', 'rm', 'busy'])).exitCode).toBe(1); // exited still counts
    expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    expectOk(await scratch.host.minictr(['rm', '-v', 'user']));
    expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout).toBe('busy');
    expectOk(await scratch.host.minictr(['volume', 'rm', 'busy']));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('an anonymous volume another container mounts by name outlives its own container\'s --rm, whose teardown succeeds', async () => {
    expectOk(await scratch.host.minictr(['run', '-d', '--rm', '--name', 'owner', '--network', 'none', '-v', '/anon', '/bin/sleep', '60']));
    const name = (await scratch.host.minictr(['volume', 'ls', '-q'])).stdout.trim();
    expectOk(await scratch.host.minictr(['run', '-d', '--name', 'borrower', '--network', 'none', '-v', `${name}:/x`, '/bin/sleep', '60']));
    expectOk(await scratch.host.minictr(['rm', '-f', 'owner']));
    expect((await scratch.host.minictr(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean)).toHaveLength(1); // the owner is gone
    expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout).toBe(name);
    expectOk(await scratch.host.minictr(['rm', '-f', 'borrower']));
    expectOk(await scratch.host.minictr(['volume', 'rm', name]));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('a plain rm leaves an exited container\'s anonymous volume, unused, to volume prune', async () => {
    expectOk(await scratch.host.minictr(['run', '--name', 'plain', '--network', 'none', '-v', '/anon', '/bin/true']));
    expectOk(await scratch.host.minictr(['rm', 'plain']));
    expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout).toMatch(/^[0-9a-f]{64}$/);
    expectOk(await scratch.host.minictr(['volume', 'prune']));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('--tmpfs mounts a tmpfs (nosuid, nodev, noexec, size, mode), gone with the container; --rm removes anonymous volumes', async () => {
    const result = await run(['--tmpfs', '/scratch:size=1m,mode=700', '-v', '/anon'], 'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo x > /anon/x');
    expectOk(result);
    expect(result.stdout).toMatch(/^tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700 0 0\n700$/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before); // no volume, no mount left
  });

  it('hostile symlinks in the image at the container path stay inside the root (CVE-2021-30465 class)', async () => {
    const host = join(dir, 'payload');
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, 'marker'), 'payload\n');
    writeFileSync(join(dir, 'file-payload'), 'file\n');
    const result = await run(
      ['--rootfs', rootfs, '-v', `${host}:/evil/sub`, '-v', `${join(dir, 'file-payload')}:/evil2/file`, '--tmpfs', '/evil2/tmp'],
      `cat /evil/sub/marker /evil2/file; ls -d ${sentinel}/sub ${sentinel}/tmp`,
    );
    expectOk(result);
    // The symlinks were followed as the container follows them: to the same path inside its own root.
    expect(result.stdout).toBe(`payload\nfile\n${sentinel}/sub\n${sentinel}/tmp`);
    sentinelUntouched();
  });

  it('a symlink an earlier container planted in a volume does not lead a later mount out of the root', async () => {
    expectOk(await run(['-v', 'planted:/v'], `ln -s ${sentinel} /v/abs; ln -s ../../../../../..${sentinel} /v/rel`));
    const host = join(dir, 'payload2');
    mkdirSync(host, { recursive: true });
    const result = await run(['-v', 'planted:/v', '-v', `${host}:/v/abs/a`, '-v', `${host}:/v/rel/b`], 'echo in > /v/abs/a/written; ls /v/rel/b');
    expectOk(result);
    expect(result.stdout).toBe('written');
    expect(readFileSync(join(host, 'written'), 'utf8')).toBe('in\n');
    sentinelUntouched();
    expectOk(await scratch.host.minictr(['volume', 'rm', 'planted']));
  });

  it('cp copies in and out of a running container, never through its symlinks to the host', async () => {
    expectOk(await scratch.host.minictr(['run', '-d', '--name', 'cp-box', '--network', 'none', '/bin/sleep', '60']));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'sub/f'), 'copied in\n', { mode: 0o600 });
    expectOk(await scratch.host.minictr(['cp', tree, 'cp-box:/tmp/']));
    const inside = await scratch.host.minictr(['exec', 'cp-box', '/bin/sh', '-c', 'cat /tmp/tree/sub/f; stat -c %a /tmp/tree/sub/f']);
    expect(inside.stdout).toBe('copied in\n600');
    const out = join(dir, 'out');
    expectOk(await scratch.host.minictr(['cp', 'cp-box:/etc/hostname', out]));
    expect(readFileSync(out, 'utf8')).toMatch(/^[0-9a-f]{12}\n$/);
    // The container plants symlinks to the host's sentinel: cp follows them inside the container, or copies them
    // as symlinks, never writes or reads the host's files through them.
    expectOk(
      await scratch.host.minictr(['exec', 'cp-box', '/bin/sh', '-c', `ln -s ${sentinel} /tmp/dirlink; ln -s ${sentinel}/keep /tmp/filelink; ln -s ${sentinel}/keep /tmp/outlink; mkdir -p ${sentinel}`]),
    );
    expectOk(await scratch.host.minictr(['cp', join(tree, 'sub/f'), 'cp-box:/tmp/dirlink/f']));
    expectOk(await scratch.host.minictr(['cp', join(tree, 'sub/f'), 'cp-box:/tmp/filelink']));
    const after = await scratch.host.minictr(['exec', 'cp-box', '/bin/sh', '-c', `cat ${sentinel}/f; ls -l /tmp/filelink`]);
    expect(after.stdout).toMatch(/^copied in\n-rw------- .* \/tmp\/filelink$/); // the link was replaced, not followed
    const through = join(dir, 'through-out');
    expectOk(await scratch.host.minictr(['cp', 'cp-box:/tmp/dirlink/f', through]));
    expect(readFileSync(through, 'utf8')).toBe('copied in\n'); // the container's file, reached inside its root
    const link = join(dir, 'link-out');
    expectOk(await scratch.host.minictr(['cp', 'cp-box:/tmp/outlink', link]));
    expect(lstatSync(link).isSymbolicLink()).toBe(true); // copied as a symlink (docker cp), not read through
    sentinelUntouched();
    expectOk(await scratch.host.minictr(['stop', '-t', '0', 'cp-box']));
    const exited = await scratch.host.minictr(['cp', 'cp-box:/etc/hostname', out]);
    expect(exited.exitCode).toBe(125);
    expect(exited.stderr).toMatch(/container cp-box is not running: minictr cp copies to and from running containers only/);
    expectOk(await scratch.host.minictr(['rm', 'cp-box']));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('gc after a SIGKILL of minictr removes an --rm container\'s anonymous volume, and keeps that of a kept one for rm -v', async () => {
    for (const point of ['lease', 'running']) {
      const crashed = await scratch.host.start(['run', '--rm', '-v', '/anon', '/bin/sleep', '5'], { env: { MINICTR_CRASH_AT: point } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout).toMatch(/^[0-9a-f]{64}$/);
      expectOk(await scratch.host.minictr(['gc']));
      expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
    }
    const kept = await scratch.host.start(['run', '--name', 'kept', '-v', '/anon', '/bin/sleep', '5'], { env: { MINICTR_CRASH_AT: 'running' } });
    expect(kept.signal, String(kept.stderr)).toBe('SIGKILL');
    expectOk(await scratch.host.minictr(['gc']));
    expect((await scratch.host.minictr(['volume', 'ls', '-q'])).stdout).toMatch(/^[0-9a-f]{64}$/);
    expectOk(await scratch.host.minictr(['rm', '-v', 'kept']));
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('--explain names each volume; --dry-run prints a script that mounts them as the run does', async () => {
    const host = join(dir, 'dry');
    mkdirSync(host, { recursive: true });
    writeFileSync(join(host, 'in'), 'bound\n');
    const explained = await run(['--explain', '-v', `${host}:/b:ro`, '-v', '/anon', '--tmpfs', '/t:size=1m'], 'true');
    expectOk(explained);
    expect(explained.stderr).toMatch(new RegExp(`volumes: bind ${host} on /b \\(ro\\); volume [0-9a-f]{64} \\(created\\) on /anon \\(rw\\); tmpfs on /t \\(rw,size=1048576\\)`));
    const dry = await scratch.host.minictr(['run', '--rm', '--dry-run', '--network', 'none', '-v', `${host}:/b:ro`, '-v', 'dryvol:/v', '--tmpfs', '/t:size=1m', '/bin/sh', '-c', 'cat /b/in; touch /b/x 2>&1; grep -c " /t tmpfs" /proc/mounts; touch /v/ok && echo ok']);
    expectOk(dry);
    expect(await scratch.host.snapshot()).toEqual(scratch.before); // --dry-run makes nothing, volumes included
    const script = join(dir, 'dry.sh');
    writeFileSync(script, `${dry.stdout}\n`);
    const result = await scratch.host.exec(['bash', script], { timeout: 20_000 });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toMatch(/^bound\ntouch: \/b\/x: Read-only file system\n1\nok$/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  const rejected: [string, string[], RegExp][] = [
    ['a relative container path', ['-v', `/tmp:data`], /container path "data" must be absolute/],
    ['".." in a container path', ['-v', '/tmp:/a/../b'], /contains "\.\."/],
    ['a mount on /', ['-v', 'vol:/'], /cannot mount over the container's root/],
    ['one container path twice', ['-v', '/tmp:/x', '--tmpfs', '/x'], /duplicate mount point: \/x/],
    ['a --mount bind of a missing source', ['--mount', 'type=bind,source=/nonexistent/src,target=/x'], /bind source path does not exist: \/nonexistent\/src/],
    ['a bad tmpfs size', ['--tmpfs', '/x:size=huge'], /tmpfs size "huge"/],
    ['a bad volume name', ['-v', '-x:/x'], /volume name "-x"/],
  ];
  for (const [what, args, message] of rejected) {
    it(`refuses ${what} with exit 125, creating nothing (not even a -v host directory)`, async () => {
      const missing = join(dir, `never-${rejected.findIndex(([w]) => w === what)}`);
      const result = await scratch.host.minictr(['run', '--rm', '-v', `${missing}:/never`, '-v', 'never-made:/nv', ...args, '/bin/true']);
      expect(result.exitCode, result.stderr).toBe(125);
      expect(result.stderr).toMatch(message);
      expect(existsSync(missing)).toBe(false);
      expect(await scratch.host.snapshot()).toEqual(scratch.before);
    });
  }
});
