import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { chainIds } from '../../src/image/layers.js';
import { parsePaxTime, TarReader, type TarEntry } from '../../src/image/tar-reader.js';
import { layerPath } from '../../src/image/unpack.js';
import { tarArchive, type RawEntry } from '../helpers/tar.js';

/** Every entry with its content, read from the archive in chunks of `chunk` bytes. */
async function read(entries: RawEntry[], chunk = 100): Promise<(TarEntry & { content: string })[]> {
  const archive = tarArchive(entries);
  const pieces: Buffer[] = [];
  for (let at = 0; at < archive.length; at += chunk) pieces.push(archive.subarray(at, at + chunk));
  const reader = new TarReader(Readable.from(pieces));
  const out: (TarEntry & { content: string })[] = [];
  for (let entry = await reader.next(); entry !== null; entry = await reader.next()) {
    let content = '';
    if (entry.path.startsWith('read')) for await (const piece of reader.body()) content += piece.toString();
    out.push({ ...entry, content });
  }
  await reader.finish();
  return out;
}

describe('TarReader', () => {
  it('reads entries, contents (read or skipped) and metadata across chunk boundaries', async () => {
    for (const chunk of [1, 7, 512, 100_000]) {
      const entries = await read(
        [
          { name: 'read-me', content: 'x'.repeat(700), mode: 0o100755, uid: 3, gid: 4, mtime: 1234 },
          { name: 'skip-me', content: 'y'.repeat(513) },
          { name: 'dir/', type: '5' },
          { name: 'old-dir/', type: '0' },
          { name: 'sym', type: '2', linkname: '/target' },
          { name: 'hard', type: '1', linkname: 'read-me' },
          { name: 'null', type: '3', devmajor: 1, devminor: 3 },
        ],
        chunk,
      );
      expect(entries.map((e) => [e.type, e.path, e.linkpath, e.content.length])).toEqual([
        ['file', 'read-me', '', 700],
        ['file', 'skip-me', '', 0],
        ['directory', 'dir/', '', 0],
        ['directory', 'old-dir/', '', 0],
        ['symlink', 'sym', '/target', 0],
        ['link', 'hard', 'read-me', 0],
        ['char', 'null', '', 0],
      ]);
      expect(entries[0]).toMatchObject({ mode: 0o755, uid: 3, gid: 4, size: 700, mtime: { seconds: 1234, nanoseconds: 0 } });
      expect(entries[6]).toMatchObject({ devmajor: 1, devminor: 3 });
    }
  });

  it('applies PAX records (path, linkpath, ids, times, binary xattrs) to the next entry only', async () => {
    const value = Buffer.from([0, 1, 0xff, 0x0a, 0x3d, 0]);
    const [first, second] = await read([
      { name: 'short', type: '2', linkname: 'x', pax: { path: 'p'.repeat(300), linkpath: 'l'.repeat(200), uid: '70000', gid: '80000', mtime: '1.5', 'SCHILY.xattr.security.capability': value } },
      { name: 'plain' },
    ]);
    expect(first).toMatchObject({ path: 'p'.repeat(300), linkpath: 'l'.repeat(200), uid: 70000, gid: 80000, mtime: { seconds: 1, nanoseconds: 500_000_000 } });
    expect(first!.xattrs).toEqual([{ name: 'security.capability', value }]);
    expect(second).toMatchObject({ path: 'plain', xattrs: [], uid: 0 });
  });

  it('refuses what it cannot read faithfully', async () => {
    await expect(read([{ name: 'x', pax: { path: 'a\0b' } }])).rejects.toThrow('tar: PAX path holds a NUL byte');
    await expect(read([{ name: 'x', pax: { 'GNU.sparse.major': '1' } }])).rejects.toThrow('sparse files are not supported');
    await expect(read([{ name: 'x', pax: { uid: '-1' } }])).rejects.toThrow('PAX uid "-1" is not a number');
    await expect(read([{ name: 'x', type: 'V' }])).rejects.toThrow(`tar: entry "x" at byte 0 has type 'V'`);
  });

  it('parses PAX times', () => {
    expect(parsePaxTime('1700000000.123456789123', 'mtime')).toEqual({ seconds: 1700000000, nanoseconds: 123456789 });
    expect(parsePaxTime('5', 'mtime')).toEqual({ seconds: 5, nanoseconds: 0 });
    expect(() => parsePaxTime('5e3', 'mtime')).toThrow('tar: mtime "5e3" is not a time');
  });
});

describe('layerPath', () => {
  it('takes paths relative to the layer root and refuses ".."', () => {
    expect(layerPath('/etc//passwd')).toEqual(['etc', 'passwd']);
    expect(layerPath('./usr/./bin/')).toEqual(['usr', 'bin']);
    expect(layerPath('./')).toEqual([]);
    expect(() => layerPath('a/../b')).toThrow('path "a/../b" leaves the layer');
  });
});

describe('chainIds', () => {
  it('follows image-spec: the first is the diff id, then sha256 of "parent child"', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    const c = `sha256:${'c'.repeat(64)}`;
    const ab = `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`;
    const abc = `sha256:${createHash('sha256').update(`${ab} ${c}`).digest('hex')}`;
    expect(chainIds([a, b, c])).toEqual([a, ab, abc]);
    expect(chainIds([])).toEqual([]);
  });
});
