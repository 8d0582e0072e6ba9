// `minictr save`: images as one archive that both `docker load` readers understand, as Docker 25+ writes it:
//   oci-layout, index.json      an OCI image layout: one index entry per name, pointing at the image's manifest,
//                               annotated with the name (io.containerd.image.name) and tag (…image.ref.name)
//   manifest.json               docker save's list: per image its Config, RepoTags and Layers, naming the same blobs
//   blobs/sha256/<hex>          every manifest, config and layer once, the store's bytes as they are (layers stay
//                               compressed as pulled; docker load and skopeo's docker-archive read them so), so a
//                               save then load gives back the same manifest digests and image ids
// The archive is written to a temporary file beside FILE and renamed to it once complete (a failed save leaves
// nothing), or streamed to stdout.

import type { Writable } from 'node:stream';
import { MinictrError } from '../errors.js';
import { BUILTIN_IMAGE, isBuiltinImage } from './builtin.js';
import { findImage } from './find.js';
import { documentType, MAX_MANIFEST_BYTES, MEDIA_TYPES, parseManifest } from './manifest.js';
import { familiarName, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';
import { TarWriter } from './tar-writer.js';

const BLOBS = 'blobs/sha256';

function blobName(digest: string): string {
  return `${BLOBS}/${digest.slice('sha256:'.length)}`;
}

/** Writes the images `refs` name (references or ids) to `out` as one archive. */
export async function saveImages(store: ImageStore, refs: string[], out: Writable): Promise<void> {
  // 1. The records, each image once (an id names all its names).
  const all = store.records();
  const chosen = new Map<string, ImageRecord>();
  for (const ref of refs) {
    if (isBuiltinImage(ref)) throw new MinictrError(`${BUILTIN_IMAGE} is the built-in rootfs, not an image of the store: it cannot be saved`, 'usage');
    for (const record of findImage(store, ref, all).records) chosen.set(record.name, record);
  }
  // 2. The documents and the blobs they name.
  const blobs = new Map<string, number>(); // digest → size
  const index: object[] = [];
  const byConfig = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
  for (const record of chosen.values()) {
    const bytes = store.readBlob(record.manifest, MAX_MANIFEST_BYTES);
    const manifest = parseManifest(bytes, `manifest of ${record.name}`);
    blobs.set(record.manifest, bytes.length);
    blobs.set(manifest.config.digest, manifest.config.size);
    for (const layer of manifest.layers) blobs.set(layer.digest, layer.size);
    const ref = parseReference(record.name);
    index.push({
      mediaType: documentType(MEDIA_TYPES.ociManifest, bytes, `manifest of ${record.name}`),
      digest: record.manifest,
      size: bytes.length,
      annotations: { 'io.containerd.image.name': record.name, ...(ref.tag !== null ? { 'org.opencontainers.image.ref.name': ref.tag } : {}) },
    });
    const entry = byConfig.get(record.config) ?? { Config: blobName(record.config), RepoTags: [], Layers: manifest.layers.map((layer) => blobName(layer.digest)) };
    if (ref.tag !== null) entry.RepoTags.push(`${familiarName(ref)}:${ref.tag}`);
    byConfig.set(record.config, entry);
  }
  // 3. The archive.
  const tar = new TarWriter(out);
  await tar.bytes('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  await tar.bytes('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: index })));
  await tar.bytes('manifest.json', Buffer.from(JSON.stringify([...byConfig.values()])));
  await tar.directory('blobs');
  await tar.directory(BLOBS);
  for (const [digest, size] of blobs) await tar.file(blobName(digest), store.blobPath(digest), size);
  await tar.end();
}
