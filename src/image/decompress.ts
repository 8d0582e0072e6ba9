// Decompressing: zstd as a stream through the addon's libzstd (Node 20's zlib has none; layer-intake.ts takes gzip
// from zlib itself), and, for what says nothing of its compression (an archive to load or import, a layer file of
// `docker save`), the compression its first bytes show, as Docker's DetectCompression reads them.
//
// Decompressing is bounded (expansionLimit): a decompression bomb, a few MiB of gzip or zstd that inflate to
// terabytes, fails with an error naming it instead of filling the store's disk. Tar data compresses a few times
// over; only long runs of one byte (a preallocated file of zeros) come near the bound, and an archive or layer
// holding one is refused too: the price of not trusting the ratio of what a registry or an archive sends.

import { closeSync, openSync, readSync } from 'node:fs';
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MinictrError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import type { Compression } from './manifest.js';

/** zstd as a Transform: each input chunk fed to the native context, output taken 1 MiB at a time. */
export function createZstdDecompress(): Transform {
  const addon = nativeAddon();
  const context = addon.zstdStream();
  // True when the last call that moved data ended a frame: an input stopping mid-frame is truncated.
  let ended = true;
  const feed = (transform: Transform, input: Buffer): void => {
    let rest = input;
    for (;;) {
      const { output, consumed, frameEnded } = addon.zstdDecompress(context, rest);
      if (consumed > 0 || output.length > 0) ended = frameEnded;
      if (output.length > 0) transform.push(output);
      rest = rest.subarray(consumed);
      if (rest.length === 0 && output.length === 0) return;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        feed(this, chunk);
        done();
      } catch (cause) {
        done(cause as Error);
      }
    },
    flush(done) {
      try {
        feed(this, Buffer.alloc(0));
        done(ended ? null : new MinictrError('zstd: the stream ends in the middle of a frame'));
      } catch (cause) {
        done(cause as Error);
      }
    },
  });
}

/** Decompressed data may be this many times as large as its compressed bytes… */
export const MAX_EXPANSION = 200;
/** …or this large, whichever is more (small layers and archives of text compress more than large ones). */
export const EXPANSION_FLOOR = 64 * 1024 * 1024;

/** How many bytes `compressed` bytes may decompress to. */
export function expansionLimit(compressed: number): number {
  return Math.max(EXPANSION_FLOOR, compressed * MAX_EXPANSION);
}

/** Data of `compressed` bytes decompressing to more than expansionLimit allows (callers name the data). */
export class DecompressionBomb extends MinictrError {
  constructor(compressed: number) {
    const limit = Math.round(expansionLimit(compressed) / 2 ** 20);
    super(`decompressed, it is more than ${limit} MiB, over ${MAX_EXPANSION} times its ${compressed} compressed bytes: refused as a decompression bomb`, 'usage');
    this.name = 'DecompressionBomb';
  }
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The compression whose magic number `head` starts with; anything else is taken as a plain tar. */
export function detectCompression(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'tar';
}

/** The compression of the file at `path`, from its first bytes. */
export function detectFileCompression(path: string): Compression {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    return detectCompression(head.subarray(0, readSync(fd, head, 0, 4, 0)));
  } finally {
    closeSync(fd);
  }
}

/**
 * `source` decompressed as its first bytes say (a stream: stdin cannot be read twice), failing with a
 * DecompressionBomb once more comes out than the compressed bytes read so far allow.
 */
export async function decompressDetected(source: Readable): Promise<Readable> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < ZSTD_MAGIC.length && !done) {
    const next = await iterator.next();
    if (next.done === true) done = true;
    else {
      head.push(next.value);
      length += next.value.length;
    }
  }
  const first = Buffer.concat(head);
  let compressed = first.length;
  const rest = Readable.from(
    (async function* () {
      yield first;
      for (let next = done ? null : await iterator.next(); next !== null && next.done !== true; next = await iterator.next()) {
        compressed += next.value.length;
        yield next.value;
      }
    })(),
  );
  const compression = detectCompression(first);
  if (compression === 'tar') return rest;
  let expanded = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      expanded += chunk.length;
      done(expanded > expansionLimit(compressed) ? new DecompressionBomb(compressed) : null, chunk);
    },
  });
  return pipeline(rest, compression === 'gzip' ? createGunzip() : createZstdDecompress(), bounded, () => {});
}
