// The images the store holds, described for `images` and `inspect`: each reference with its ids, creation time
// and size, read from the stored manifest and config (size-capped, verified by digest); and the built-in rootfs.

import { builtinSummary } from './builtin.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from './manifest.js';
import { familiarName, parseReference } from './reference.js';
import { ImageStore } from './store.js';

export interface ImageSummary {
  /** Full reference as pulled. */
  name: string;
  repository: string;
  tag: string | null;
  /** The manifest's digest (null: the built-in rootfs). */
  digest: string | null;
  /** The config's digest: Docker's image id (`builtin` for the built-in rootfs). */
  id: string;
  created: string | null;
  /** Compressed layer bytes. */
  size: number;
}

/** The store's images, newest first, then the built-in rootfs when `builtinRootfs` is given. */
export function listImages(store = new ImageStore(), builtinRootfs: string | null = null): ImageSummary[] {
  const stored = store
    .records()
    .map((record) => {
      const ref = parseReference(record.name);
      const manifest = parseManifest(store.readBlob(record.manifest, MAX_MANIFEST_BYTES), `manifest of ${record.name}`);
      const config = parseImageConfig(store.readBlob(record.config, MAX_CONFIG_BYTES), manifest.layers.length, `config of ${record.name}`);
      return {
        name: record.name,
        repository: familiarName(ref),
        tag: ref.tag,
        digest: record.manifest,
        id: record.config,
        created: config.created ?? null,
        size: manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
      };
    })
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.name.localeCompare(b.name));
  const builtin = builtinRootfs === null ? null : builtinSummary(builtinRootfs);
  return builtin === null ? stored : [...stored, builtin];
}
