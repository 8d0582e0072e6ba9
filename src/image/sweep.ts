// Removing what no image needs any more: blobs no record names (its manifest, index, config, layers) and unpacked
// layers whose chain id no record's image has. Run by rmi and image prune after they remove records, and by gc
// (with what killed pulls, loads and unpacks left in tmp/ and layers/). The caller holds the store's lock, so no
// commit runs meanwhile; a pull still downloading may lose a blob it found already stored, and its commit fetches it
// again (commit.ts, step 3).
//
// A layer goes in two steps: renamed to a temporary name (atomic: a run never finds it half-removed under its
// chain id), then deleted; a removal killed between the two leaves a temporary of a dead pid, swept next time.

import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stepError } from '../errors.js';
import { temporaryName } from '../sys/exclusive-file.js';
import { chainIds, layerDir } from './layers.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from './manifest.js';
import type { ImageStore } from './store.js';

export interface Swept {
  blobs: number;
  layers: number;
  /** Bytes of the blobs removed. */
  bytes: number;
}

/** Blob digests and layer chain ids the store's records need. */
function referenced(store: ImageStore): { blobs: Set<string>; chains: Set<string> } {
  const blobs = new Set<string>();
  const chains = new Set<string>();
  for (const record of store.records()) {
    const what = `image ${record.name} (remove it with minictr rmi if it is damaged)`;
    const manifest = parseManifest(store.readBlob(record.manifest, MAX_MANIFEST_BYTES), `manifest of ${what}`);
    const config = parseImageConfig(store.readBlob(record.config, MAX_CONFIG_BYTES), manifest.layers.length, `config of ${what}`);
    for (const digest of [record.manifest, record.index, record.config, ...manifest.layers.map((layer) => layer.digest)]) if (digest !== null) blobs.add(digest);
    for (const chain of chainIds(config.rootfs.diff_ids)) chains.add(chain);
  }
  return { blobs, chains };
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch {
    return [];
  }
}

/** Removes the blobs and layers no record needs; the caller holds store.lock(). */
export function sweepUnreferenced(store: ImageStore): Swept {
  const { blobs, chains } = referenced(store);
  const swept: Swept = { blobs: 0, layers: 0, bytes: 0 };
  const blobDir = join(store.root, 'blobs', 'sha256');
  for (const hex of entries(blobDir)) {
    if (blobs.has(`sha256:${hex}`)) continue;
    const path = join(blobDir, hex);
    try {
      swept.bytes += statSync(path).size;
      rmSync(path, { force: true });
    } catch (cause) {
      throw stepError('remove blob', path, cause);
    }
    swept.blobs++;
  }
  const layersDir = join(store.root, 'layers');
  for (const hex of entries(layersDir)) {
    if (chains.has(`sha256:${hex}`)) continue;
    const dir = layerDir(store, `sha256:${hex}`);
    const doomed = join(layersDir, temporaryName(randomBytes(8).toString('hex')));
    try {
      renameSync(dir, doomed);
      rmSync(doomed, { recursive: true, force: true });
    } catch (cause) {
      throw stepError('remove layer', dir, cause);
    }
    swept.layers++;
  }
  return swept;
}
