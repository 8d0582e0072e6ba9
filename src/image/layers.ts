// An image's layers as directories an overlay mount can stack: each layer unpacked once, under its chain id
// (image-spec: chainID(L0) = diffID(L0), chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln))), into
// DATA_ROOT/layers/<chain id hex>/diff, and shared read-only by every image and container that has it.
//
// Pull, load and import unpack each layer as they store it (commit.ts, layer-intake.ts), and write into the image's
// record what a run needs (its chain ids, the config's run fields), so a run reads that one file and only checks
// that each layer is there. What an older minictr stored without unpacking is unpacked here on its
// first run, the same way: into layers/.tmp-<pid>-<random>/diff, its uncompressed stream hashed on the way and
// compared with the config's diff id, and only then renamed whole to layers/<chain id hex>, so nothing
// half-unpacked is ever used. Two processes unpacking the same layer both finish, and the second rename fails (the
// name is taken): that one removes its copy. A process killed mid-unpack leaves a .tmp- directory of a dead pid,
// which ImageStore.removeAbandoned (run first by an unpack here, and by pull, load, import and gc) removes.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError } from '../errors.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest, runConfig, type ImageConfig, type ImageManifest, type RunConfig } from './manifest.js';
import { DIGEST } from './reference.js';
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
  if (!DIGEST.test(chainId)) throw new MinictrError(`layer directory: "${chainId}" is not a sha256 chain id`);
  return join(store.root, 'layers', chainId.slice('sha256:'.length));
}

/**
 * What a run needs of a stored image: its layers' diff directories, lowest first, and the config's run fields. Taken
 * from the record alone when it holds them and every layer is unpacked; else (a record of an older minictr, a layer
 * not unpacked) from the manifest and config, unpacking what is missing.
 */
export async function runImage(store: ImageStore, record: ImageRecord): Promise<{ layers: string[]; config: RunConfig }> {
  if (record.run !== undefined) {
    const layers = record.run.layers.map((chainId) => join(layerDir(store, chainId), 'diff'));
    if (layers.every((dir) => statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true)) return { layers, config: record.run.config };
  }
  const image = readImage(store, record);
  return { layers: await ensureLayers(store, record, image), config: runConfig(image.config.config) };
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
