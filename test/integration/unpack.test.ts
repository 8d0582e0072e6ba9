// Unpacking hand-built layers (test/helpers/tar.ts) for real, as root: hostile layers are refused or contained in
// the layer root, with sentinel files beside the root and in /tmp untouched; good layers keep owners, modes, times,
// links, devices and xattrs, and their whiteouts and opaque directories work when the layers are stacked by a real
// overlay mount (in a private mount namespace).

import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackLayer } from '../../src/image/unpack.js';
import { isRoot } from '../helpers/scratch-host.js';
import { fileCapability, tarArchive, type RawEntry } from '../helpers/tar.js';

const unpack = (root: string, entries: RawEntry[]) => unpackLayer(Readable.from([tarArchive(entries)]), root, 'test layer');

function xattr(path: string, name: string): string | null {
  const script = 'import os,sys\ntry: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())\nexcept OSError: print("none")';
  const out = execFileSync('python3', ['-c', script, path, name], { encoding: 'utf8' }).trim();
  return out === 'none' ? null : out;
}

describe.skipIf(!isRoot)('unpack (needs root: skipped otherwise)', () => {
  let dir = '';
  let root = '';
  // A file in /tmp named like a target of the hostile entries, and one beside the layer root.
  const probe = `minictr-unpack-probe-${process.pid}`;
  const hostProbe = join('/tmp', probe);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-unpack-'));
    root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(dir, probe), 'sentinel');
    writeFileSync(hostProbe, 'sentinel');
  });
  afterEach(() => {
    // The sentinels outside the root are untouched by every test.
    expect(readFileSync(join(dir, probe), 'utf8')).toBe('sentinel');
    expect(readFileSync(hostProbe, 'utf8')).toBe('sentinel');
    expect(readdirSync(dir).sort()).toEqual([probe, 'root']);
    rmSync(dir, { recursive: true, force: true });
    rmSync(hostProbe, { force: true });
  });

  it('refuses a path with ".." (../x, a/../../x)', async () => {
    await expect(unpack(root, [{ name: `../${probe}`, content: 'pwned' }])).rejects.toThrow(`test layer: entry "../${probe}": path "../${probe}" leaves the layer`);
    await expect(unpack(root, [{ name: `a/../../${probe}`, content: 'pwned' }])).rejects.toThrow('leaves the layer');
    expect(readdirSync(root)).toEqual([]);
  });

  it('keeps an absolute path inside the root', async () => {
    await unpack(root, [{ name: hostProbe, content: 'contained' }]);
    expect(readFileSync(join(root, 'tmp', probe), 'utf8')).toBe('contained');
  });

  it('writes through a symlink to / inside the root (a -> /, then a/tmp/PROBE)', async () => {
    await unpack(root, [
      { name: 'a', type: '2', linkname: '/' },
      { name: `a/tmp/${probe}`, content: 'contained' },
      { name: 'b', type: '2', linkname: '/tmp' },
      { name: `b/${probe}`, content: 'contained too' },
    ]);
    expect(readlinkSync(join(root, 'a'))).toBe('/');
    expect(readFileSync(join(root, 'tmp', probe), 'utf8')).toBe('contained too');
  });

  it('writes through symlinks to .. and ../../.. inside the root', async () => {
    await unpack(root, [
      { name: 'up', type: '2', linkname: '..' },
      { name: `up/${probe}`, content: 'contained' },
      { name: 'sub/', type: '5' },
      { name: 'sub/far', type: '2', linkname: '../../..' },
      { name: `sub/far/tmp/${probe}`, content: 'contained too' },
    ]);
    expect(readFileSync(join(root, probe), 'utf8')).toBe('contained');
    expect(readFileSync(join(root, 'tmp', probe), 'utf8')).toBe('contained too');
  });

  it('replaces a symlink by the file or directory an entry names, never writing through it', async () => {
    await unpack(root, [
      { name: 'f', type: '2', linkname: hostProbe },
      { name: 'f', content: 'replaced' },
      { name: 'd', type: '2', linkname: dir },
      { name: 'd', type: '5' },
      { name: `d/${probe}`, content: 'inside' },
    ]);
    expect(readFileSync(join(root, 'f'), 'utf8')).toBe('replaced');
    expect(lstatSync(join(root, 'd')).isDirectory()).toBe(true);
    expect(readFileSync(join(root, 'd', probe), 'utf8')).toBe('inside');
  });

  it('links hard links only inside the root (/etc/passwd, ../../x, through a symlink)', async () => {
    const passwdLinks = statSync('/etc/passwd').nlink;
    await expect(unpack(root, [{ name: 'pw', type: '1', linkname: '/etc/passwd' }])).rejects.toThrow(/entry "pw": openat2 etc\/passwd: No such file or directory/);
    await expect(unpack(root, [{ name: 'x', type: '1', linkname: `../../${probe}` }])).rejects.toThrow('leaves the layer');
    await unpack(root, [
      { name: 'etc/', type: '5' },
      { name: 'etc/passwd', content: 'root:x:0:0::/:/bin/sh\n' },
      { name: 'e', type: '2', linkname: '/etc' },
      { name: 'pw', type: '1', linkname: '/etc/passwd' },
      { name: 'pw2', type: '1', linkname: 'e/passwd' },
    ]);
    const ino = statSync(join(root, 'etc/passwd')).ino;
    expect(statSync(join(root, 'pw')).ino).toBe(ino);
    expect(statSync(join(root, 'pw2')).ino).toBe(ino);
    expect(statSync(join(root, 'etc/passwd')).nlink).toBe(3);
    expect(statSync('/etc/passwd').nlink).toBe(passwdLinks);
  });

  it('refuses a symlink named "." and whiteouts naming "." or ".."', async () => {
    await expect(unpack(root, [{ name: '.', type: '2', linkname: '/' }])).rejects.toThrow('entry ".": a non-directory cannot be the layer root');
    await expect(unpack(root, [{ name: '.wh...', content: '' }])).rejects.toThrow('whiteout ".wh..." names no entry');
    await expect(unpack(root, [{ name: 'dir/.wh...', content: '' }])).rejects.toThrow('whiteout ".wh..." names no entry');
    await expect(unpack(root, [{ name: 'dir/.wh..', content: '' }])).rejects.toThrow('whiteout ".wh.." names no entry');
    expect(readdirSync(root)).toEqual([]);
  });

  it('makes device nodes inside the root, even under a dev that is a symlink to the host /dev', async () => {
    const hostNode = `/dev/${probe}`;
    await unpack(root, [
      { name: 'nodes/', type: '5' },
      { name: 'nodes/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3 },
      { name: 'nodes/loop9', type: '4', mode: 0o660, devmajor: 7, devminor: 9 },
      { name: 'nodes/pipe', type: '6', mode: 0o600 },
    ]);
    const node = lstatSync(join(root, 'nodes/null'));
    expect(node.isCharacterDevice()).toBe(true);
    expect([node.rdev >> 8, node.rdev & 0xff, node.mode & 0o7777]).toEqual([1, 3, 0o666]);
    expect(lstatSync(join(root, 'nodes/loop9')).isBlockDevice()).toBe(true);
    expect(lstatSync(join(root, 'nodes/pipe')).isFIFO()).toBe(true);
    // dev -> /dev resolves to itself inside the root (a loop), so the node under it is refused.
    await expect(unpack(root, [{ name: 'dev', type: '2', linkname: '/dev' }, { name: `dev/${probe}`, type: '3', devmajor: 1, devminor: 1 }])).rejects.toThrow(/ELOOP|Too many levels of symbolic links/);
    expect(existsSync(hostNode)).toBe(false);
  });

  it('takes long PAX paths and refuses a PAX path holding a NUL', async () => {
    const long = Array.from({ length: 12 }, (_, n) => `${String(n).padStart(2, '0')}${'d'.repeat(200)}`).join('/');
    await unpack(root, [{ name: 'ignored', pax: { path: `${long}/file` }, content: 'deep' }]);
    expect(readFileSync(join(root, long, 'file'), 'utf8')).toBe('deep');
    await expect(unpack(root, [{ name: 'ignored', pax: { path: `ok\0/../../${probe}` }, content: 'pwned' }])).rejects.toThrow('PAX path holds a NUL byte');
  });

  it('refuses overlayfs xattrs from a layer', async () => {
    await expect(unpack(root, [{ name: 'd/', type: '5', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/etc' } }])).rejects.toThrow('xattr trusted.overlay.redirect belongs to overlayfs');
  });

  it('refuses a damaged archive: bad checksum, truncated file', async () => {
    const archive = tarArchive([{ name: 'f', content: 'x'.repeat(1000) }]);
    const bad = Buffer.from(archive);
    bad[0] = 0x67;
    await expect(unpackLayer(Readable.from([bad]), root, 'test layer')).rejects.toThrow('tar: bad header checksum at byte 0');
    await expect(unpackLayer(Readable.from([archive.subarray(0, 700)]), root, 'test layer')).rejects.toThrow('tar: truncated at byte 700');
  });

  it('keeps owners, modes, times, links, devices and xattrs', async () => {
    const capability = fileCapability(1 << 10); // CAP_NET_BIND_SERVICE
    await unpack(root, [
      { name: 'usr/', type: '5', mode: 0o750, uid: 7, gid: 8, mtime: 1_500_000_000 },
      { name: 'usr/ping', mode: 0o4755, uid: 1000, gid: 2000, mtime: 1_400_000_000, content: 'binary', pax: { 'SCHILY.xattr.security.capability': capability, mtime: '1400000000.123456789' } },
      { name: 'usr/link', type: '2', linkname: 'ping', uid: 5, gid: 6, mtime: 1_300_000_000 },
      { name: 'usr/hard', type: '1', linkname: 'usr/ping' },
      { name: 'usr/sticky/', type: '5', mode: 0o1777, pax: { 'SCHILY.xattr.user.note': 'hello' } },
    ]);
    const dirStat = statSync(join(root, 'usr'));
    expect([dirStat.mode & 0o7777, dirStat.uid, dirStat.gid, dirStat.mtimeMs]).toEqual([0o750, 7, 8, 1_500_000_000_000]);
    const file = statSync(join(root, 'usr/ping'), { bigint: true });
    expect([Number(file.mode & 0o7777n), file.uid, file.gid, file.nlink]).toEqual([0o4755, 1000n, 2000n, 2n]);
    expect(file.mtimeNs).toBe(1_400_000_000_123_456_789n);
    expect(readFileSync(join(root, 'usr/hard'), 'utf8')).toBe('binary');
    expect(xattr(join(root, 'usr/ping'), 'security.capability')).toBe(capability.toString('hex'));
    const link = lstatSync(join(root, 'usr/link'));
    expect([readlinkSync(join(root, 'usr/link')), link.uid, link.gid, link.mtimeMs]).toEqual(['ping', 5, 6, 1_300_000_000_000]);
    expect(statSync(join(root, 'usr/sticky')).mode & 0o7777).toBe(0o1777);
    expect(xattr(join(root, 'usr/sticky'), 'user.note')).toBe(Buffer.from('hello').toString('hex'));
  });

  it('stacks as overlay lowerdirs: whiteouts hide, opaque directories replace', async () => {
    const lower = join(root, 'lower');
    const upper = join(root, 'upper');
    const merged = join(root, 'merged');
    for (const d of [lower, upper, merged]) mkdirSync(d);
    await unpack(lower, [
      { name: 'a/', type: '5' },
      { name: 'a/keep', content: 'kept' },
      { name: 'a/gone', content: 'hidden' },
      { name: 'b/', type: '5' },
      { name: 'b/old1', content: '1' },
      { name: 'b/old2/', type: '5' },
      { name: 'top', content: 'hidden too' },
    ]);
    await unpack(upper, [
      { name: 'a/', type: '5' },
      { name: 'a/.wh.gone', content: '' },
      { name: 'b/', type: '5' },
      { name: 'b/.wh..wh..opq', content: '' },
      { name: 'b/new', content: 'new' },
      { name: '.wh.top', content: '' },
    ]);
    const whiteout = lstatSync(join(upper, 'a/gone'));
    expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
    expect(xattr(join(upper, 'b'), 'trusted.overlay.opaque')).toBe(Buffer.from('y').toString('hex'));
    const script = `mount -t overlay overlay -o lowerdir=${upper}:${lower} ${merged} && cd ${merged} && find . | sort && cat a/keep b/new`;
    const out = execFileSync('unshare', ['--mount', 'sh', '-c', script], { encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['.', './a', './a/keep', './b', './b/new', 'keptnew']);
  });
});
