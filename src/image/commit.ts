// Storing an image, whatever it comes from (a registry: pull.ts; an archive: load.ts; a rootfs tar: import.ts):
// put each blob, verify it, record the image. In numbered steps:
//   1. no name may be the built-in image's (builtin.ts); the config must be the one the manifest names (digest and size) and give one diff id per layer
//   2. the layers not yet stored or not yet unpacked, a few at a time: each blob taken from the source (or from the
//      store, when only its unpacking is missing) in one pass that hashes it, keeps it and unpacks it under its
//      chain id (layer-intake.ts); each is kept only once its digest, size and diff id match
//   3. under the store's lock: every layer must still be there, stored and unpacked (a concurrent rmi or gc may have
//      removed one that step 2 found already there: then step 2 runs again for it); manifest, index and config are
//      written; each name is pointed at the image (its record holding what a run needs: layers.ts), and an image
//      a name moves away from is kept as dangling (`repo@sha256:…`, as Docker keeps it as `<none>`) unless another
//      name still holds it
// So a record never names a blob that is not there, a blob is never stored unverified, and a run of a stored image
// finds its layers unpacked (layers.ts unpacks them only for what an older minictr stored).

import { existsSync } from 'node:fs';
import { MinictrError } from '../errors.js';
import { refuseBuiltinName } from './builtin.js';
import { fileBytes, intakeLayer, type LayerBytes } from './layer-intake.js';
import { chainIds, layerDir } from './layers.js';
import { parseImageConfig, parseManifest, runConfig, sha256, type Descriptor } from './manifest.js';
import type { PullProgress } from './progress.js';
import { formatReference, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';

export interface ImageSource {
  /** Full references to point at the image (none: only its blobs are stored). */
  names: string[];
  /** The manifest, already checked against the digest it was asked for. */
  manifest: Buffer;
  /** The index the manifest was chosen from, if any. */
  index: Buffer | null;
  config: Buffer;
  /** A layer's blob, as its bytes arrive (checked against the descriptor by layer-intake.ts). */
  openLayer(layer: Descriptor): Promise<LayerBytes>;
  /** The image in messages: `127.0.0.1:5000/demo/web:1`, `image 2 of archive.tar`. */
  what: string;
}

/** How often step 2 runs again for blobs or layers removed under it before the commit gives up. */
const ATTEMPTS = 3;
/** Layers taken in at once (Docker's default for concurrent downloads). */
export const PARALLEL_LAYERS = 3;

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

  const diffIds = config.rootfs.diff_ids;
  const chain = chainIds(diffIds);
  const dirs = chain.map((chainId) => layerDir(store, chainId));
  const complete = (layer: Descriptor, n: number) => store.hasBlob(layer.digest) && existsSync(dirs[n]!);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // 2. Layers.
    await eachLimited(manifest.layers, PARALLEL_LAYERS, async (layer, n) => {
      const stored = store.hasBlob(layer.digest);
      const unpacked = existsSync(dirs[n]!);
      if (stored && unpacked) {
        progress?.update(layer.digest, 'Already exists');
        return;
      }
      const what = `layer ${n} (${layer.digest}) of ${source.what}`;
      const bytes = stored ? fileBytes(store.blobPath(layer.digest), `stored blob ${layer.digest}`) : await source.openLayer(layer);
      const status = stored ? 'Extracting' : 'Downloading';
      await intakeLayer(store, { layer, diffId: diffIds[n]!, dir: unpacked ? null : dirs[n]!, keepBlob: !stored, what }, bytes, (received) =>
        progress?.update(layer.digest, status, received, layer.size),
      );
      progress?.update(layer.digest, 'Pull complete');
    });
    // 3. Records, under the lock.
    const release = store.lock();
    try {
      if (!manifest.layers.every(complete)) continue;
      const record: Omit<ImageRecord, 'name'> = {
        manifest: store.writeBlob(source.manifest),
        index: source.index === null ? null : store.writeBlob(source.index),
        config: store.writeBlob(source.config),
        pulled: new Date().toISOString(),
        run: { layers: chain, config: runConfig(config.config) },
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
  throw new MinictrError(`store ${source.what}: its blobs or layers were removed ${ATTEMPTS} times while it was being stored (concurrent rmi or gc); try again`);
}

/** Before `name` moves to the image with config `configDigest`: the image it named stays, as `repo@digest`, if nothing else names it. */
function keepIfDangling(store: ImageStore, name: string, configDigest: string): void {
  const previous = store.record(name);
  if (previous === null || previous.config === configDigest) return;
  if (store.records().some((other) => other.name !== name && other.config === previous.config)) return;
  const ref = parseReference(name);
  store.writeRecord({ ...previous, name: formatReference({ ...ref, tag: null, digest: previous.manifest }), untagged: true });
}

/**
 * Runs `work` on each item, at most `limit` at a time; after a failure no new item starts, and the first failure is
 * thrown once every started item has settled (each cleans up its own temporaries).
 */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const n = next++;
      try {
        await work(items[n]!, n);
      } catch (cause) {
        failed = true;
        throw cause;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = results.find((result) => result.status === 'rejected');
  if (rejected !== undefined) throw rejected.reason;
}
