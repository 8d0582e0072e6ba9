// An image's layers as directories an overlay mount can stack: each layer unpacked once, under its chain id
// (image-spec: chainID(L0) = diffID(L0), chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))), into
// DATA_ROOT/layers/<chain id hex>/diff, and shared read-only by every image and container that has it.
//
// Pull, load and import unpack each layer as they store it (commit.ts, layer-intake.ts), so a run finds every
// layer there and only checks that it is. What an older minictr stored without unpacking is unpacked here on its
// first run, the same way: into layers/.tmp-<pid>-<random>/diff, its uncompressed stream hashed on the way and
// compared with the config's diff id, and only then renamed whole to layers/<chain id hex>, so nothing
// half-unpacked is ever used. Two processes unpacking the same layer both finish, and the second rename fails (the
// name is taken): that one removes its copy. A process killed mid-unpack leaves a .tmp- directory of a dead pid,
// which ImageStore.removeAbandoned (run first by an unpack here, and by pull, load, import and gc) removes.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest, type ImageConfig, type ImageManifest } from './manifest.js';
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
  const { manifest, config } = image;
  const diffIds = config.rootfs.diff_ids;
  const dirs = chainIds(diffIds).map((chainId) => layerDir(store, chainId));
  const missing = manifest.layers.flatMap((layer, n) => (existsSync(dirs[n]!) ? [] : [{ layer, n }]));
  if (missing.length > 0) {
    // The unpacker loads only when a layer is missing: a run of an image already unpacked needs none of it.
    const { fileBytes, intakeLayer } = await import('./layer-intake.js');
    store.removeAbandoned();
    for (const { layer, n } of missing) {
      const what = `image ${record.name}: layer ${n} (${layer.digest})`;
      await intakeLayer(store, { layer, diffId: diffIds[n]!, dir: dirs[n]!, keepBlob: false, what }, fileBytes(store.blobPath(layer.digest), `stored blob ${layer.digest}`));
    }
  }
  return dirs.map((dir) => join(dir, 'diff'));
}
