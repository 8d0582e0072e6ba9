// An image's layers as directories an overlay mount can stack: each layer unpacked once, under its chain id
// (image-spec: chainID(L0) = diffID(L0), chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))), into
// DATA_ROOT/layers/<chain id hex>/diff, and shared read-only by every image and container that has it.
//
// Nothing half-unpacked is ever used: a layer is unpacked into layers/.tmp-<pid>-<random>/diff, its uncompressed
// stream hashed on the way and compared with the config's diff id, and only then is the whole directory renamed to
// layers/<chain id hex>. Two processes unpacking the same layer both finish, and the second rename fails (the name
// is taken): that one removes its copy. A process killed mid-unpack leaves a .tmp- directory of a dead pid, which
// ImageStore.removeAbandoned (run first by ensureLayers, and by pull, load, import and gc) removes.

import { createHash, randomBytes, type Hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MinictrError } from '../errors.js';
import { layerCompression, MAX_CONFIG_BYTES, parseImageConfig, parseManifest, type Compression, type ImageConfig, type ImageManifest } from './manifest.js';
import { MAX_MANIFEST_BYTES } from './registry.js';
import { temporaryName } from '../sys/exclusive-file.js';
import type { ImageRecord, ImageStore } from './store.js';

/** The chain ids of layers with these diff ids, lowest first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const below = chain[chain.length - 1];
    chain.push(below === undefined ? diffId : `sha256:${createHash('sha256').update(`${below} ${diffId}`).digest('hex')}`);
  }
  return chain;
}

/** The directory holding the unpacked layer with this chain id (its content is diff/ inside). */
export function layerDir(store: ImageStore, chainId: string): string {
  return join(store.root, 'layers', chainId.slice('sha256:'.length));
}

/** A stored image's manifest and config, read from their blobs (each checked against its digest). */
export function readImage(store: ImageStore, record: ImageRecord): { manifest: ImageManifest; config: ImageConfig } {
  const manifest = parseManifest(store.readBlob(record.manifest, MAX_MANIFEST_BYTES), `manifest ${record.manifest} of ${record.name}`);
  const config = parseImageConfig(store.readBlob(manifest.config.digest, MAX_CONFIG_BYTES), manifest.layers.length, `config ${manifest.config.digest} of ${record.name}`);
  return { manifest, config };
}

/**
 * The diff directories of the image's layers, lowest first (overlay's lowerdir lists them the other way round),
 * unpacking those not unpacked yet. A caller that has read the image already passes it, so a run reads it once.
 */
export async function ensureLayers(store: ImageStore, record: ImageRecord, image = readImage(store, record)): Promise<string[]> {
  const what = `image ${record.name}`;
  const { manifest, config } = image;
  const diffIds = config.rootfs.diff_ids;
  const chain = chainIds(diffIds);
  store.removeAbandoned();
  mkdirSync(join(store.root, 'layers'), { recursive: true, mode: 0o700 });

  const dirs: string[] = [];
  for (const [n, layer] of manifest.layers.entries()) {
    const dir = layerDir(store, chain[n]!);
    if (!existsSync(dir)) {
      const layerWhat = `${what}: layer ${n} (${layer.digest})`;
      await unpackInto(dir, store.blobPath(layer.digest), layerCompression(layer.mediaType, layerWhat), diffIds[n]!, store, layerWhat);
    }
    dirs.push(join(dir, 'diff'));
  }
  return dirs;
}

/** Unpacks a layer blob next to `dir`, checks its diff id, then renames it to `dir` (unless another process did first). */
async function unpackInto(dir: string, blob: string, compression: Compression, diffId: string, store: ImageStore, what: string): Promise<void> {
  // 1. A fresh temporary directory beside the final one (same file system: the rename is atomic).
  const temp = join(store.root, 'layers', temporaryName(randomBytes(8).toString('hex')));
  mkdirSync(temp, { mode: 0o700 });
  try {
    mkdirSync(join(temp, 'diff'), { mode: 0o755 });
    // 2. Unpack, hashing the uncompressed stream as the tar reader takes it. (The unpacker and node-tar load only
    //    when a layer is missing: a run of an image already unpacked needs neither.)
    const [{ openLayer }, { unpackLayer }] = await Promise.all([import('./decompress.js'), import('./unpack.js')]);
    const hash = createHash('sha256');
    const stream = openLayer(blob, compression);
    try {
      await unpackLayer(hashing(stream, hash), join(temp, 'diff'), what);
    } finally {
      stream.destroy();
    }
    // 3. The bytes unpacked must be the ones the config names.
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== diffId) throw new MinictrError(`${what}: uncompressed, its digest is ${actual}, but the config's diff id is ${diffId}`);
    // 4. Into place, whole; a concurrent unpack that finished first already put the same content there.
    try {
      renameSync(temp, dir);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw new MinictrError(`${what}: rename ${temp} to ${dir}: ${(cause as Error).message}`, 'failure', cause);
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

async function* hashing(stream: Readable, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    yield chunk as Buffer;
  }
}
