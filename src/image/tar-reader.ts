// Reading a layer's tar stream entry by entry. The `tar` package decodes each 512-byte header (octal and base-256
// numbers, the ustar prefix, the checksum); the framing around it is here, because node-tar's own parser decodes
// PAX records as UTF-8 text cut at the first NUL and keeps no xattrs, and an image layer's security.capability is a
// binary SCHILY.xattr record. So: PAX records are read as bytes (path, linkpath, size, uid, gid, mtime, atime and
// SCHILY.xattr.*), GNU long names (L, K) are applied, global headers ignored (as containerd does), and anything
// malformed is an error, never a skipped entry: a bad checksum, a truncated body, a NUL inside a PAX path, a sparse
// or unknown entry type.

import { Header } from 'tar/header';
import { MinictrError } from '../errors.js';
import type { Timestamp, Xattr } from '../native/types.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarEntry {
  type: TarEntryType;
  /** As the archive spells it: not normalised, maybe absolute or holding "..". */
  path: string;
  /** Symlink text or hard link target ("" for other types). */
  linkpath: string;
  /** Permission bits and set-id/sticky bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Timestamp;
  atime: Timestamp;
  devmajor: number;
  devminor: number;
  xattrs: Xattr[];
}

const BLOCK = 512;
/** Go's archive/tar caps PAX and GNU long-name records at 1 MiB; so does minictr. */
const MAX_META_BYTES = 1 << 20;

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/** Exact byte reads over an async stream of Buffers. */
class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  /** Bytes handed out so far (for error messages). */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const next = await this.source.next();
      if (next.done === true) this.done = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
  }

  /** Up to n bytes from the front, without copying when one chunk holds them. */
  private shift(n: number): Buffer {
    const first = this.chunks[0]!;
    const piece = first.length <= n ? first : first.subarray(0, n);
    if (first.length <= n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= piece.length;
    this.offset += piece.length;
    return piece;
  }

  /** Exactly n bytes, or null at the very end of the stream; fewer is a truncated archive. */
  async take(n: number): Promise<Buffer | null> {
    await this.fill(n);
    if (this.buffered === 0) return null;
    if (this.buffered < n) throw new MinictrError(`tar: truncated at byte ${this.offset + this.buffered}`);
    const first = this.shift(n);
    if (first.length === n) return first;
    const parts = [first];
    for (let got = first.length; got < n; ) {
      const piece = this.shift(n - got);
      parts.push(piece);
      got += piece.length;
    }
    return Buffer.concat(parts, n);
  }

  /** The next n bytes in pieces as they arrive. */
  async *pieces(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0; ) {
      await this.fill(1);
      if (this.buffered === 0) throw new MinictrError(`tar: truncated at byte ${this.offset}`);
      const piece = this.shift(left);
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const piece of this.pieces(n)) void piece;
  }

  /** Reads what is left (the archive's trailing blocks) so that whoever hashes the stream sees all of it. */
  async drain(): Promise<void> {
    for (;;) {
      this.chunks = [];
      this.buffered = 0;
      await this.fill(1);
      if (this.buffered === 0) return;
    }
  }
}

/** Pending extended header fields for the next entry. */
interface Extended {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Timestamp;
  atime?: Timestamp;
  xattrs: Xattr[];
}

/** "1700000000.123456789" (a PAX time) as seconds and nanoseconds. */
export function parsePaxTime(text: string, what: string): Timestamp {
  const match = /^(-?\d{1,15})(?:\.(\d+))?$/.exec(text);
  if (match === null) throw new MinictrError(`tar: ${what} "${text}" is not a time`);
  const nanoseconds = Number((match[2] ?? '').slice(0, 9).padEnd(9, '0'));
  return { seconds: Number(match[1]), nanoseconds };
}

function paxNumber(text: string, key: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new MinictrError(`tar: PAX ${key} "${text}" is not a number`);
  return Number(text);
}

function paxText(value: Buffer, key: string): string {
  if (value.includes(0)) throw new MinictrError(`tar: PAX ${key} holds a NUL byte`);
  return value.toString('utf8');
}

/** PAX records, "LENGTH key=value\n" each, the value raw bytes (xattr values are binary). */
export function parsePax(bytes: Buffer, into: Extended): void {
  for (let at = 0; at < bytes.length; ) {
    const space = bytes.indexOf(0x20, at);
    const length = space > at ? Number(bytes.toString('latin1', at, space)) : NaN;
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > bytes.length || bytes[at + length - 1] !== 0x0a) {
      throw new MinictrError(`tar: malformed PAX record at byte ${at} of its header`);
    }
    const record = bytes.subarray(space + 1, at + length - 1);
    at += length;
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw new MinictrError('tar: a PAX record without a key');
    const key = record.toString('utf8', 0, equals);
    const value = record.subarray(equals + 1);
    if (key.startsWith('SCHILY.xattr.')) {
      into.xattrs = into.xattrs.filter((x) => x.name !== key.slice(13));
      into.xattrs.push({ name: key.slice(13), value: Buffer.from(value) });
    } else if (key.startsWith('GNU.sparse.')) {
      throw new MinictrError('tar: sparse files are not supported');
    } else if (key === 'path' || key === 'linkpath') {
      into[key] = paxText(value, key);
    } else if (key === 'size' || key === 'uid' || key === 'gid') {
      into[key] = paxNumber(paxText(value, key), key);
    } else if (key === 'mtime' || key === 'atime') {
      into[key] = parsePaxTime(paxText(value, key), key);
    }
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function seconds(date: Date | undefined): Timestamp {
  const ms = date?.getTime() ?? 0;
  return { seconds: Math.floor(ms / 1000), nanoseconds: 0 };
}

/**
 * The entries of a tar stream, in order. Each entry's content (for files) is read through body() before next() is
 * called again, or skipped by next(). finish() reads the rest of the stream.
 */
export class TarReader {
  private readonly bytes: ByteReader;
  private unread = 0;
  private padding = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.bytes = new ByteReader(source[Symbol.asyncIterator]());
  }

  /** The content of the entry next() returned last. */
  body(): AsyncGenerator<Buffer> {
    const n = this.unread;
    this.unread = 0;
    return this.bytes.pieces(n);
  }

  async finish(): Promise<void> {
    await this.bytes.drain();
  }

  /** The next entry, or null at the end of the archive (two zero blocks, or the end of the stream). */
  async next(): Promise<TarEntry | null> {
    await this.bytes.skip(this.unread + this.padding);
    this.unread = 0;
    this.padding = 0;
    const extended: Extended = { xattrs: [] };
    for (;;) {
      const at = this.bytes.offset;
      const block = await this.bytes.take(BLOCK);
      if (block === null || isZero(block)) return null;
      let header: Header;
      try {
        header = new Header(block);
      } catch (cause) {
        throw new MinictrError(`tar: unreadable header at byte ${at}: ${(cause as Error).message}`, 'failure', cause);
      }
      if (!header.cksumValid) throw new MinictrError(`tar: bad header checksum at byte ${at}`);
      const flag = block[156] === 0 ? '' : String.fromCharCode(block[156]!);
      const size = flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K' ? header.size : (extended.size ?? header.size);
      if (size === undefined || !Number.isSafeInteger(size) || size < 0) throw new MinictrError(`tar: bad size in the header at byte ${at}`);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;

      // Extended headers describe the next entry.
      if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
        if (size > MAX_META_BYTES) throw new MinictrError(`tar: a ${size}-byte extended header at byte ${at}`);
        const meta = size === 0 ? Buffer.alloc(0) : await this.bytes.take(size);
        if (meta === null) throw new MinictrError(`tar: truncated at byte ${this.bytes.offset}`);
        await this.bytes.skip(padding);
        if (flag === 'x') parsePax(meta, extended);
        else if (flag === 'L' || flag === 'K') {
          const end = meta.indexOf(0);
          extended[flag === 'L' ? 'path' : 'linkpath'] = meta.toString('utf8', 0, end < 0 ? meta.length : end);
        }
        continue;
      }

      let type = TYPES[flag];
      if (type === undefined) throw new MinictrError(`tar: entry "${header.path ?? ''}" at byte ${at} has type '${flag}', which minictr does not unpack`);
      const path = extended.path ?? header.path ?? '';
      if (type === 'file' && flag !== '7' && path.endsWith('/')) type = 'directory'; // old tars mark directories so
      const mtime = extended.mtime ?? seconds(header.mtime);
      const entry: TarEntry = {
        type,
        path,
        linkpath: type === 'link' || type === 'symlink' ? (extended.linkpath ?? header.linkpath ?? '') : '',
        mode: (header.mode ?? 0) & 0o7777,
        uid: extended.uid ?? header.uid ?? 0,
        gid: extended.gid ?? header.gid ?? 0,
        size: type === 'file' ? size : 0,
        mtime,
        atime: extended.atime ?? mtime,
        devmajor: header.devmaj,
        devminor: header.devmin,
        xattrs: extended.xattrs,
      };
      // A directory's or link's stated size is not content (some tars write one anyway): skipped, not read.
      this.unread = size;
      this.padding = padding;
      return entry;
    }
  }
}
