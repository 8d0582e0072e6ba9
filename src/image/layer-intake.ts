// One pass over a layer's blob as its bytes arrive, as Docker and containerd unpack while they download: a
// registry's response body (pull), a file of an archive (load, import), or a stored blob whose layer is not
// unpacked yet (layers.ts). Each chunk is
//   1. counted (never more than the descriptor's size) and hashed: the blob's digest
//   2. kept, unless the blob is stored already: appended to a temporary file in tmp/ a megabyte at a time (the
//      store keeps layers as pulled, for `save`); a file of an archive is linked instead of copied
//   3. decompressed once (gzip by zlib, in its thread pool; zstd by the addon; a plain tar as it is; never to more
//      than decompress.ts's expansionLimit of the descriptor's size: a decompression bomb fails), and the
//      uncompressed stream hashed (the config's diff id) and unpacked by unpack.ts into
//      layers/.tmp-<pid>-<random>/diff, or only hashed when the layer is unpacked already
// Nothing is kept unless size, digest and diff id all match; only then is the blob renamed to blobs/sha256/<hex>
// and the directory to layers/<chain id hex> (when a concurrent unpack renamed first, it put the same content
// there, and this copy is dropped). A process killed meanwhile leaves temporaries of a dead pid, which
// ImageStore.removeAbandoned removes. Bytes that do not match their digest are reported as such even when the
// decompressor or the unpacker failed on them first: the bytes are the cause.

import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, createReadStream, linkSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MinictrError, messageOf } from '../errors.js';
import { temporaryName } from '../sys/exclusive-file.js';
import { createZstdDecompress, DecompressionBomb, expansionLimit } from './decompress.js';
import { layerCompression, type Compression, type Descriptor } from './manifest.js';
import type { ImageStore } from './store.js';
import { unpackLayer } from './unpack.js';

/** Reads, writes and zlib's input and output buffers are about this large. */
const BATCH_BYTES = 1 << 20;

/** A layer blob's bytes, as they arrive. */
export interface LayerBytes {
  chunks: AsyncIterable<Uint8Array>;
  /** The bytes in messages: `blob sha256:… of demo/web from 127.0.0.1:5000`. */
  what: string;
  /** A file holding the bytes, on the store's file system: linked into the store instead of copied. */
  file?: string;
  /** Drops bytes never read (a download started early, then not needed); nothing to do for a file. */
  discard?(): void;
}

/** The bytes of the file at `path`, read a megabyte at a time (the file is opened on the first read). */
export function fileBytes(path: string, what: string): LayerBytes {
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* createReadStream(path, { highWaterMark: BATCH_BYTES });
  }
  return { chunks: chunks(), what, file: path };
}

/** What to make of one layer. */
export interface LayerTarget {
  layer: Descriptor;
  diffId: string;
  /** layers/<chain id hex> to unpack into, or null when the layer is unpacked there already (then only hashed). */
  dir: string | null;
  /** Whether to store the blob (false: it is stored already). */
  keepBlob: boolean;
  /** The layer in messages: `layer 2 (sha256:…) of 127.0.0.1:5000/demo/web:1`. */
  what: string;
}

/** Takes in one layer from `bytes` (see the top of this file); `progress` hears the bytes received so far. */
export async function intakeLayer(store: ImageStore, target: LayerTarget, bytes: LayerBytes, progress: (received: number) => void = () => {}): Promise<void> {
  const { layer, what } = target;
  const compression = layerCompression(layer.mediaType, what);
  // 1. Temporaries beside their final names (same file system: the renames are atomic).
  const blobTemp = target.keepBlob ? store.tempPath() : null;
  const dirTemp = target.dir === null ? null : join(dirname(target.dir), temporaryName(randomBytes(8).toString('hex')));
  let blob: BlobFile | null = null;
  try {
    if (blobTemp !== null) {
      if (bytes.file !== undefined) linkSync(bytes.file, blobTemp);
      else blob = new BlobFile(blobTemp);
    }
    if (dirTemp !== null) {
      mkdirSync(dirname(dirTemp), { recursive: true, mode: 0o700 });
      mkdirSync(dirTemp, { mode: 0o700 });
      mkdirSync(join(dirTemp, 'diff'), { mode: 0o755 });
    }
    // 2. The pass, then its verdicts: the bytes first, then what was made of them.
    const pass = await onePass(bytes, compression, dirTemp === null ? null : join(dirTemp, 'diff'), blob, layer.size, progress, what);
    blob?.close();
    blob = null;
    if (pass.received !== layer.size || pass.digest !== layer.digest) {
      throw new MinictrError(`${bytes.what}: received ${pass.received} bytes with digest ${pass.digest}, expected ${layer.size} bytes with ${layer.digest}`);
    }
    if (pass.failure !== null) throw pass.failure;
    if (pass.diffId !== target.diffId) throw new MinictrError(`${what}: uncompressed, its digest is ${pass.diffId}, but the config's diff id is ${target.diffId}`);
    // 3. Into place, blob then layer.
    if (blobTemp !== null) store.commitBlob(blobTemp, layer.digest);
    if (dirTemp !== null) {
      try {
        renameSync(dirTemp, target.dir!);
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw new MinictrError(`${what}: rename ${dirTemp} to ${target.dir}: ${messageOf(cause)}`, 'failure', cause);
      }
    }
  } finally {
    blob?.close();
    if (blobTemp !== null) rmSync(blobTemp, { force: true });
    if (dirTemp !== null) rmSync(dirTemp, { recursive: true, force: true });
  }
}

interface Pass {
  received: number;
  digest: string;
  diffId: string;
  /** Why decompressing or unpacking failed, if it did. */
  failure: MinictrError | null;
}

/**
 * Feeds `bytes` to the blob file and the decompressor, while the uncompressed side is hashed and unpacked into
 * `root` (or only hashed). A network error ends the pass with that error; when the decompressor or the unpacker
 * fails, the bytes are still read to the end (their digest says whether they are to blame) and the failure returned.
 */
async function onePass(bytes: LayerBytes, compression: Compression, root: string | null, blob: BlobFile | null, size: number, progress: (received: number) => void, what: string): Promise<Pass> {
  const decompressor = decompressorFor(compression);
  // A plain tar's diff id is its digest: hashed once.
  const diffHash = compression === 'tar' ? null : createHash('sha256');
  const uncompressed = hashed(decompressor, diffHash, compression === 'tar' ? Infinity : expansionLimit(size), () => new DecompressionBomb(size));
  // Settled into a value at once: a failure while the bytes are still being fed is no unhandled rejection.
  const consumed: Promise<MinictrError | null> = (root !== null ? unpackLayer(uncompressed, root, what) : drain(uncompressed)).then(
    () => null,
    (cause: unknown) => (cause instanceof MinictrError ? cause : new MinictrError(`${what}: ${messageOf(cause)}`, 'failure', cause)),
  );
  const blobHash = createHash('sha256');
  // Chunks are taken a batch at a time: each call into zlib costs a trip to its thread pool, whatever its size.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const take = async (): Promise<void> => {
    const batch = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    blobHash.update(batch);
    blob?.write(batch);
    if (!decompressor.destroyed && !decompressor.write(batch)) await drained(decompressor);
  };
  let received = 0;
  try {
    for await (const chunk of bytes.chunks) {
      received += chunk.length;
      if (received > size) throw new MinictrError(`${bytes.what}: more than the ${size} bytes its descriptor gives`);
      progress(received);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= BATCH_BYTES) await take();
    }
    if (pendingBytes > 0) await take();
    if (!decompressor.destroyed) decompressor.end();
  } catch (cause) {
    decompressor.destroy(cause as Error);
    await consumed;
    throw cause;
  }
  const failure = await consumed;
  const digest = `sha256:${blobHash.digest('hex')}`;
  return { received, digest, diffId: diffHash === null ? digest : `sha256:${diffHash.digest('hex')}`, failure };
}

function decompressorFor(compression: Compression): Duplex {
  if (compression === 'gzip') return createGunzip({ chunkSize: BATCH_BYTES });
  if (compression === 'zstd') return createZstdDecompress();
  return new PassThrough({ highWaterMark: BATCH_BYTES });
}

/**
 * The decompressor's output, hashed on the way (unless `hash` is null), failing with `tooLarge()` past `limit`
 * bytes; its errors name the step.
 */
async function* hashed(decompressor: Duplex, hash: Hash | null, limit: number, tooLarge: () => MinictrError): AsyncGenerator<Buffer> {
  let length = 0;
  const iterator = decompressor[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await iterator.next();
      } catch (cause) {
        throw new MinictrError(`cannot decompress: ${messageOf(cause)}`, 'failure', cause);
      }
      if (next.done === true) return;
      length += next.value.length;
      if (length > limit) throw tooLarge();
      hash?.update(next.value);
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}

async function drain(source: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of source) void chunk;
}

/** Resolves when `stream` takes writes again, or is gone (destroyed by its reader or by an error). */
function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/** A new file that batches are appended to. */
class BlobFile {
  private fd: number | null;

  constructor(path: string) {
    this.fd = openSync(path, 'wx', 0o644);
  }

  write(batch: Uint8Array): void {
    for (let at = 0; at < batch.length; ) at += writeSync(this.fd!, batch, at);
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
