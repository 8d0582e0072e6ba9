// `minictr pull`: an image from a registry into the store, in numbered steps:
//   1. the manifest the reference names (a tag or a digest); if it is an index, the manifest of the platform asked
//      for (default: this host's), fetched by its digest
//   2. the config, read into memory, while the downloads of the first layers not stored yet start (their answers
//      wait, unread, until step 3 takes them: the config's round trip is not added to theirs)
//   3. the rest is commit.ts's, shared with load and import: layers downloaded and unpacked as they arrive, a few
//      at a time (layer-intake.ts: each kept only once its digest, size and diff id match), then under the store's
//      lock the blobs and layers checked, manifest and index stored by digest, and last the reference pointed at
//      them (so a reference never names an image whose blobs are not all there)

import { MinictrError } from '../errors.js';
import { PARALLEL_LAYERS, storeImage } from './commit.js';
import { credentialsFor } from './credentials.js';
import { chooseManifest, documentType, hostPlatform, MAX_CONFIG_BYTES, isIndex, parseManifest, type Descriptor, type Platform } from './manifest.js';
import type { LayerBytes } from './layer-intake.js';
import { PullProgress } from './progress.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { RegistryClient, RegistryError } from './registry.js';
import { ImageStore, type ImageRecord } from './store.js';

export interface PullOptions {
  platform: Platform | null;
  insecureRegistries: string[];
  /** Per-layer progress lines (a terminal); otherwise silent. */
  progress: boolean;
}

/** Pulls `text` into the store and returns its record. */
export async function pullImage(text: string, options: PullOptions, store = new ImageStore()): Promise<ImageRecord> {
  const ref = parseReference(text);
  const name = formatReference(ref);
  const client = new RegistryClient(ref.registry, {
    insecure: options.insecureRegistries.includes(ref.registry),
    credentials: credentialsFor(ref.registry),
  });
  const platform = options.platform ?? hostPlatform();
  store.removeAbandoned();

  // 1. Manifest, through the index if there is one.
  let top = await client.manifest(ref.repository, ref.digest ?? ref.tag!);
  const topType = documentType(top.mediaType, top.bytes, `manifest of ${name}`);
  let indexBytes: Buffer | null = null;
  let manifestBytes = top.bytes;
  if (isIndex(topType)) {
    indexBytes = top.bytes;
    const chosen = chooseManifest(top.bytes, platform, `index of ${name}`);
    top = await client.manifest(ref.repository, chosen.digest);
    if (isIndex(documentType(top.mediaType, top.bytes, `manifest ${chosen.digest} of ${name}`))) {
      throw new MinictrError(`manifest ${chosen.digest} of ${name}: an index inside an index is not supported`);
    }
    manifestBytes = top.bytes;
  }
  const manifest = parseManifest(manifestBytes, `manifest ${top.digest} of ${name}`);

  // 2. Config, and the first downloads.
  const early = new Map<string, Promise<LayerBytes>>();
  for (const layer of manifest.layers.slice(0, PARALLEL_LAYERS)) {
    if (early.has(layer.digest) || store.hasBlob(layer.digest)) continue;
    const opening = client.blobBytes(ref.repository, layer);
    opening.catch(() => {}); // a failure counts only if step 3 takes this download
    early.set(layer.digest, opening);
  }
  try {
    const config = await fetchSmallBlob(client, store, ref, manifest.config, MAX_CONFIG_BYTES);

    // 3. Layers and records.
    const openLayer = (layer: Descriptor): Promise<LayerBytes> => {
      const opening = early.get(layer.digest);
      early.delete(layer.digest);
      return opening ?? client.blobBytes(ref.repository, layer);
    };
    const [record] = await storeImage(
      store,
      { names: [name], manifest: manifestBytes, index: indexBytes, config, openLayer, what: name },
      options.progress ? new PullProgress(process.stderr) : null,
    );
    return record!;
  } finally {
    // Downloads started early and never taken (a concurrent pull stored the blob meanwhile, or a failure came first).
    for (const opening of early.values()) opening.then((bytes) => bytes.discard?.(), () => {});
  }
}

async function fetchSmallBlob(client: RegistryClient, store: ImageStore, ref: ImageReference, descriptor: Descriptor, limit: number): Promise<Buffer> {
  if (descriptor.size > limit) throw new RegistryError('protocol', `blob ${descriptor.digest}: ${descriptor.size} bytes, more than the ${limit} allowed`);
  try {
    return store.readBlob(descriptor.digest, limit);
  } catch (cause) {
    // Not stored, or removed since (an rmi racing this pull): downloaded.
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
  }
  return client.smallBlob(ref.repository, descriptor, limit);
}
