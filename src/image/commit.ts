// Storing an image, whatever it comes from (a registry: pull.ts; an archive: load.ts; a rootfs tar: import.ts):
// put each blob, verify it, record the image. In numbered steps:
//   1. no name may be the built-in image's (builtin.ts); the config must be the one the manifest names (digest and
//      size) and give one diff id per layer
//   2. the layers not yet stored are fetched by the source in parallel into tmp/, each verified against its
//      descriptor (digest, size) by the source and then against its diff id (the digest of the uncompressed tar)
//      here, and only then committed under their digest
//   3. under the store's lock: every layer must still be there (a concurrent rmi or gc may have removed a blob that
//      step 2 found already stored: then step 2 runs again for it); manifest, index and config are written; each
//      name is pointed at the image, and an image a name moves away from is kept as dangling (`repo@sha256:…`,
//      as Docker keeps it as `<none>`) unless another name still holds it
// So a record never names a blob that is not there, and a blob is never stored unverified.

import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { MinictrError } from '../errors.js';
import { refuseBuiltinName } from './builtin.js';
import { openLayer } from './decompress.js';
import { layerCompression, parseImageConfig, parseManifest } from './manifest.js';
import type { PullProgress } from './progress.js';
import { formatReference, parseReference } from './reference.js';
import { sha256, type Descriptor } from './registry.js';
import type { ImageRecord, ImageStore } from './store.js';

export interface ImageSource {
  /** Full references to point at the image (none: only its blobs are stored). */
  names: string[];
  /** The manifest, already checked against the digest it was asked for. */
  manifest: Buffer;
  /** The index the manifest was chosen from, if any. */
  index: Buffer | null;
  config: Buffer;
  /** Writes a layer's blob to `path` (a new file in tmp/), checked against the descriptor's digest and size. */
  fetchLayer(layer: Descriptor, path: string, progress: (bytes: number) => void): Promise<void>;
  /** The image in messages: `127.0.0.1:5000/demo/web:1`, `image 2 of archive.tar`. */
  what: string;
}

/** How often step 2 runs again for blobs removed under it before the commit gives up. */
const ATTEMPTS = 3;

/** Stores the image and returns the records written, one per name. */
export async function storeImage(store: ImageStore, source: ImageSource, progress: PullProgress | null = null): Promise<ImageRecord[]> {
  // 1. Names, manifest and config.
  refuseBuiltinName(source.names, source.what);
  const manifest = parseManifest(source.manifest, `manifest of ${source.what}`);
  const configDigest = sha256(source.config);
  if (configDigest !== manifest.config.digest || source.config.length !== manifest.config.size) {
    throw new MinictrError(`config of ${source.what}: ${source.config.length} bytes with digest ${configDigest}, but the manifest names ${manifest.config.size} bytes with ${manifest.config.digest}`);
  }
  const config = parseImageConfig(source.config, manifest.layers.length, `config ${configDigest} of ${source.what}`);

  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // 2. Layers.
    await Promise.all(
      manifest.layers.map(async (layer, n) => {
        if (store.hasBlob(layer.digest)) {
          progress?.update(layer.digest, 'Already exists');
          return;
        }
        const temp = store.tempPath();
        try {
          await source.fetchLayer(layer, temp, (bytes) => progress?.update(layer.digest, 'Downloading', bytes, layer.size));
          progress?.update(layer.digest, 'Verifying');
          await verifyDiffId(temp, layer, config.rootfs.diff_ids[n]!, `layer ${n} (${layer.digest}) of ${source.what}`);
          store.commitBlob(temp, layer.digest);
          progress?.update(layer.digest, 'Pull complete');
        } finally {
          await rm(temp, { force: true });
        }
      }),
    );
    // 3. Records, under the lock.
    const release = store.lock();
    try {
      if (manifest.layers.some((layer) => !store.hasBlob(layer.digest))) continue;
      const record: Omit<ImageRecord, 'name'> = {
        manifest: store.writeBlob(source.manifest),
        index: source.index === null ? null : store.writeBlob(source.index),
        config: store.writeBlob(source.config),
        pulled: new Date().toISOString(),
      };
      return source.names.map((name) => {
        keepIfDangling(store, name, configDigest);
        store.writeRecord({ name, ...record });
        return { name, ...record };
      });
    } finally {
      release();
    }
  }
  throw new MinictrError(`store ${source.what}: its blobs were removed ${ATTEMPTS} times while it was being stored (concurrent rmi or gc); try again`);
}

/** Before `name` moves to the image with config `configDigest`: the image it named stays, as `repo@digest`, if nothing else names it. */
function keepIfDangling(store: ImageStore, name: string, configDigest: string): void {
  const previous = store.record(name);
  if (previous === null || previous.config === configDigest) return;
  if (store.records().some((other) => other.name !== name && other.config === previous.config)) return;
  const ref = parseReference(name);
  store.writeRecord({ ...previous, name: formatReference({ ...ref, tag: null, digest: previous.manifest }), untagged: true });
}

/** The uncompressed tar of a fetched layer must hash to its diff id, or the config and the layer disagree. */
async function verifyDiffId(path: string, layer: Descriptor, diffId: string, what: string): Promise<void> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of openLayer(path, layerCompression(layer.mediaType, what))) hash.update(chunk as Buffer);
  } catch (cause) {
    throw new MinictrError(`${what}: cannot decompress: ${(cause as Error).message}`, 'failure', cause);
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== diffId) throw new MinictrError(`${what}: uncompressed, its digest is ${actual}, but the config's diff id is ${diffId}`);
}
