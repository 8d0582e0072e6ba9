// `minictr pull`: an image from a registry into the store, in numbered steps:
//   1. the manifest the reference names (a tag or a digest); if it is an index, the manifest of the platform asked
//      for (default: this host's), fetched by its digest
//   2. the config, checked to give one diff id per layer
//   3. the layers not yet stored, in parallel, each verified against its digest and size as it streams to tmp/,
//      then against its diff id (the digest of the uncompressed tar) before it is committed
//   4. manifest and index stored by digest; last, the reference is pointed at them (so a reference never names an
//      image whose blobs are not all there)

import { rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { MinictrError } from '../errors.js';
import { credentialsFor } from './credentials.js';
import { openLayer } from './decompress.js';
import { chooseManifest, documentType, hostPlatform, MAX_CONFIG_BYTES, isIndex, layerCompression, parseImageConfig, parseManifest, type Platform } from './manifest.js';
import { PullProgress } from './progress.js';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import { RegistryClient, RegistryError, type Descriptor } from './registry.js';
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
  let index: string | null = null;
  let manifestBytes = top.bytes;
  if (isIndex(topType)) {
    index = store.writeBlob(top.bytes);
    const chosen = chooseManifest(top.bytes, platform, `index of ${name}`);
    top = await client.manifest(ref.repository, chosen.digest);
    if (isIndex(documentType(top.mediaType, top.bytes, `manifest ${chosen.digest} of ${name}`))) {
      throw new MinictrError(`manifest ${chosen.digest} of ${name}: an index inside an index is not supported`);
    }
    manifestBytes = top.bytes;
  }
  const manifest = parseManifest(manifestBytes, `manifest ${top.digest} of ${name}`);

  // 2. Config.
  const configBytes = await fetchSmallBlob(client, store, ref, manifest.config, MAX_CONFIG_BYTES);
  const config = parseImageConfig(configBytes, manifest.layers.length, `config ${manifest.config.digest} of ${name}`);

  // 3. Layers.
  const progress = options.progress ? new PullProgress(process.stderr) : null;
  await Promise.all(
    manifest.layers.map(async (layer, n) => {
      if (store.hasBlob(layer.digest)) {
        progress?.update(layer.digest, 'Already exists');
        return;
      }
      const temp = store.tempPath();
      try {
        await client.blob(ref.repository, layer, temp, (bytes) => progress?.update(layer.digest, 'Downloading', bytes, layer.size));
        progress?.update(layer.digest, 'Verifying');
        await verifyDiffId(temp, layer, config.rootfs.diff_ids[n]!, `layer ${n} (${layer.digest}) of ${name}`);
        store.commitBlob(temp, layer.digest);
        progress?.update(layer.digest, 'Pull complete');
      } finally {
        await rm(temp, { force: true });
      }
    }),
  );

  // 4. Manifest, then the reference.
  const record: ImageRecord = {
    name,
    manifest: store.writeBlob(manifestBytes),
    index,
    config: manifest.config.digest,
    pulled: new Date().toISOString(),
  };
  store.writeRecord(record);
  return record;
}

async function fetchSmallBlob(client: RegistryClient, store: ImageStore, ref: ImageReference, descriptor: Descriptor, limit: number): Promise<Buffer> {
  if (descriptor.size > limit) throw new RegistryError('protocol', `blob ${descriptor.digest}: ${descriptor.size} bytes, more than the ${limit} allowed`);
  if (!store.hasBlob(descriptor.digest)) {
    const temp = store.tempPath();
    await client.blob(ref.repository, descriptor, temp);
    store.commitBlob(temp, descriptor.digest);
  }
  return store.readBlob(descriptor.digest, limit);
}

/** The uncompressed tar of a downloaded layer must hash to its diff id, or the config and the layer disagree. */
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
