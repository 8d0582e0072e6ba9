// The pure parts of load, save, rmi and the built-in image: the tar writer read back by minictr's own reader,
// compression sniffing, an archive's members extracted under numbers (a hostile archive writes nothing outside its
// work directory), image lookup by name or id prefix, and the names the built-in rootfs answers to.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ArchiveFiles } from '../../src/image/archive.js';
import { imageLabel, isBuiltinImage } from '../../src/image/builtin.js';
import { decompressDetected, detectCompression } from '../../src/image/decompress.js';
import { findImage } from '../../src/image/find.js';
import { ImageStore, type ImageRecord } from '../../src/image/store.js';
import { TarReader } from '../../src/image/tar-reader.js';
import { TarWriter } from '../../src/image/tar-writer.js';
import { tarArchive } from '../helpers/tar.js';

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('TarWriter', () => {
  it('writes directories and files that the tar reader reads back, deterministically', async () => {
    const write = async () => {
      const out = new PassThrough();
      const done = collect(out);
      const tar = new TarWriter(out);
      await tar.directory('blobs');
      await tar.bytes('index.json', Buffer.from('{"a":1}'));
      await tar.end();
      out.end();
      return done;
    };
    const bytes = await write();
    expect(bytes.length % 512).toBe(0);
    expect(bytes.equals(await write())).toBe(true);
    const reader = new TarReader(Readable.from([bytes]));
    expect(await reader.next()).toMatchObject({ type: 'directory', path: 'blobs/', mode: 0o755, uid: 0 });
    expect(await reader.next()).toMatchObject({ type: 'file', path: 'index.json', size: 7 });
    expect((await collect(reader.body())).toString()).toBe('{"a":1}');
    expect(await reader.next()).toBe(null);
  });

  it('refuses a member name longer than ustar holds', async () => {
    await expect(new TarWriter(new PassThrough()).bytes('x'.repeat(101), Buffer.alloc(0))).rejects.toThrow('longer than 100 bytes');
  });
});

describe('compression', () => {
  it('is read from the magic number; anything else is a plain tar', async () => {
    expect(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0]))).toBe('gzip');
    expect(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(detectCompression(Buffer.from('ustar'))).toBe('tar');
    expect(detectCompression(Buffer.alloc(0))).toBe('tar');
    const data = Buffer.from('hello, archive');
    // Split into one-byte chunks: the magic number is read across chunk boundaries.
    const gz = [...gzipSync(data)].map((byte) => Buffer.from([byte]));
    expect((await collect(await decompressDetected(Readable.from(gz)))).toString()).toBe('hello, archive');
    expect((await collect(await decompressDetected(Readable.from([data])))).toString()).toBe('hello, archive');
  });
});

describe('ArchiveFiles', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes members under numbers only, resolves links inside the archive, and ignores what leaves it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-archive-unit-'));
    const work = join(dir, 'work');
    mkdirSync(work);
    const archive = tarArchive([
      { name: './manifest.json', content: '[]' },
      { name: 'abc.tar', content: 'layer' },
      { name: 'id/layer.tar', type: '2', linkname: '../abc.tar' },
      { name: 'hard.tar', type: '1', linkname: 'abc.tar' },
      { name: '../escape', content: 'out' },
      { name: '/abs/file', content: 'abs' },
      { name: 'out.tar', type: '2', linkname: '../../etc/passwd' },
      { name: 'loop', type: '2', linkname: 'loop' },
      { name: 'dev', type: '3', devmajor: 1, devminor: 3 },
    ]);
    const files = await ArchiveFiles.extract(Readable.from([archive]), work, 'test.tar');
    expect(readdirSync(work).sort()).toEqual(['0', '1', '2']);
    expect(readdirSync(dir)).toEqual(['work']);
    expect(readFileSync(files.get('manifest.json'), 'utf8')).toBe('[]');
    expect(readFileSync(files.get('id/layer.tar'), 'utf8')).toBe('layer');
    expect(readFileSync(files.get('hard.tar'), 'utf8')).toBe('layer');
    expect(readFileSync(files.get('abs/file'), 'utf8')).toBe('abs'); // absolute: taken as relative to the archive
    expect(files.find('../escape')).toBe(null);
    expect(files.find('out.tar')).toBe(null);
    expect(files.find('loop')).toBe(null);
    expect(files.find('dev')).toBe(null);
    expect(() => files.get('config.json')).toThrow('test.tar: it has no file "config.json"');
  });

  it('names a malformed archive', async () => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-archive-unit-'));
    await expect(ArchiveFiles.extract(Readable.from([Buffer.alloc(512, 0x41)]), dir, 'bad.tar')).rejects.toThrow(/^read bad\.tar: tar: /);
  });
});

describe('findImage', () => {
  const record = (name: string, config: string): ImageRecord => ({ name, manifest: `sha256:${'9'.repeat(64)}`, index: null, config, pulled: '' });
  const a = `sha256:abc1${'0'.repeat(60)}`;
  const b = `sha256:abd2${'0'.repeat(60)}`;
  const records = [record('docker.io/library/web:1', a), record('docker.io/library/web:2', a), record('127.0.0.1:5000/x/y:v1', b)];
  const store = new ImageStore('/nonexistent');

  it('finds by reference (Docker normalised), then by id, full or a unique prefix', () => {
    expect(findImage(store, 'web:1', records)).toEqual({ id: a, records: [records[0]], byId: false });
    expect(findImage(store, a, records)).toEqual({ id: a, records: records.slice(0, 2), byId: true });
    expect(findImage(store, a.slice(7), records).records).toHaveLength(2);
    expect(findImage(store, 'abd', records).records).toEqual([records[2]]);
  });

  it('says when nothing or several images match', () => {
    expect(() => findImage(store, 'ab', records)).toThrow('image id prefix "ab" is ambiguous: abc100000000, abd200000000');
    expect(() => findImage(store, 'web:3', records)).toThrow(expect.objectContaining({ kind: 'lookup', message: 'No such image: web:3' }));
    expect(() => findImage(store, 'Bad/Name', records)).toThrow(expect.objectContaining({ kind: 'usage' }));
    expect(() => findImage(store, 'Bad/Name', [])).toThrow(expect.objectContaining({ kind: 'usage' }));
  });
});

describe('the built-in image', () => {
  it('answers to its short and full names only', () => {
    expect(isBuiltinImage('minictr/busybox:builtin')).toBe(true);
    expect(isBuiltinImage('docker.io/minictr/busybox:builtin')).toBe(true);
    expect(isBuiltinImage('minictr/busybox')).toBe(false);
    expect(isBuiltinImage('127.0.0.1:5000/minictr/busybox:builtin')).toBe(false);
    expect(isBuiltinImage('Minictr/Busybox:builtin')).toBe(false);
  });

  it('labels containers in ps: the short reference, the built-in name, or the rootfs directory', () => {
    expect(imageLabel({ name: 'docker.io/library/nginx:1.27' }, '/x', '/rootfs')).toBe('nginx:1.27');
    expect(imageLabel({ name: '127.0.0.1:5000/demo/app:v2' }, '/x', '/rootfs')).toBe('127.0.0.1:5000/demo/app:v2');
    expect(imageLabel(null, '/rootfs', '/rootfs')).toBe('minictr/busybox:builtin');
    expect(imageLabel(null, '/srv/root', '/rootfs')).toBe('/srv/root');
  });
});
