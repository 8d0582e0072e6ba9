// `minictr load`: the images of an archive into the store, in numbered steps:
//   1. the archive (a tar, maybe gzip- or zstd-compressed) extracted into a work directory in tmp/ (archive.ts); a
//      load killed now or later leaves only temporaries of a dead pid, which the next pull or `gc` removes
//   2. its images, read as its format says:
//      - an OCI image layout (oci-layout, index.json, blobs/sha256/…), Docker 25+'s `docker save` included: each
//        manifest index.json names (through an index: the host's platform), its bytes checked against their digest;
//        named by its io.containerd.image.name annotation, or an org.opencontainers.image.ref.name that is a full
//        reference (skopeo's oci-archive:FILE:NAME), and by the RepoTags manifest.json gives its config
//      - `docker save` before Docker 25 (manifest.json: Config, RepoTags, Layers, each a member file): the manifest
//        a registry would have served is made from them, each layer's digest and compression read from its file
//   3. each image stored by commit.ts, as a pull stores it: every layer checked against its digest and size as it is
//      read from the work directory (and linked into the store, not copied), and against its diff id as it is
//      unpacked; then the records
// An image without a name is refused (minictr keeps images by name), before anything of that archive is stored.

import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { MinictrError } from '../errors.js';
import { ArchiveFiles } from './archive.js';
import { refuseBuiltinName } from './builtin.js';
import { storeImage, type ImageSource } from './commit.js';
import { decompressDetected, detectFileCompression } from './decompress.js';
import { fileBytes } from './layer-intake.js';
import { checkDigest, chooseManifest, documentType, isIndex, LAYER_MEDIA_TYPES, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MEDIA_TYPES, parseManifest, sha256, type Descriptor, type Platform } from './manifest.js';
import { formatReference, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';

/** An image found in an archive, before it is stored. */
type ArchiveImage = Omit<ImageSource, 'openLayer'> & { layerFiles: Map<string, string> };

/** Loads the archive read from `source` (named `what` in messages) and returns the records written. */
export async function loadArchive(source: Readable, what: string, store: ImageStore, platform: Platform): Promise<ImageRecord[]> {
  store.removeAbandoned();
  const work = store.tempPath();
  mkdirSync(work, { mode: 0o700 });
  try {
    // 1. Extract.
    const files = await ArchiveFiles.extract(await decompressDetected(source), work, what);
    // 2. Read.
    const images = files.find('index.json') !== null ? ociImages(files, what, platform) : await dockerImages(files, what);
    for (const image of images) {
      if (image.names.length === 0) throw new MinictrError(`${image.what}: it has no name (no RepoTags, no image name annotation); minictr keeps images by name`, 'usage');
      refuseBuiltinName(image.names, image.what);
    }
    // 3. Store.
    const records: ImageRecord[] = [];
    for (const image of images) {
      const openLayer = async (layer: Descriptor) => fileBytes(image.layerFiles.get(layer.digest)!, `layer ${layer.digest} of ${image.what}`);
      records.push(...(await storeImage(store, { ...image, openLayer })));
    }
    return records;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A member's bytes, refusing more than `limit` (a manifest, a config, index.json). */
function readMember(files: ArchiveFiles, name: string, limit: number, what: string): Buffer {
  const path = files.get(name);
  const size = statSync(path).size;
  if (size > limit) throw new MinictrError(`${what}: "${name}" is ${size} bytes, more than the ${limit} allowed`, 'usage');
  return readFileSync(path);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new MinictrError(`${what}: not JSON`, 'usage', cause);
  }
}

/** A blob of the layout, checked against its descriptor's digest. */
function readBlob(files: ArchiveFiles, digest: string, limit: number, what: string): Buffer {
  const bytes = readMember(files, `blobs/sha256/${checkDigest(digest, what).slice('sha256:'.length)}`, limit, what);
  if (sha256(bytes) !== digest) throw new MinictrError(`${what}: blob ${digest} does not match its digest`, 'usage');
  return bytes;
}

/** RepoTags of manifest.json (when there is one), by the digest of the config they name. */
function repoTagsByConfig(files: ArchiveFiles, what: string): Map<string, string[]> {
  const tags = new Map<string, string[]>();
  if (files.find('manifest.json') === null) return tags;
  for (const entry of dockerEntries(files, what)) {
    const digest = sha256(readMember(files, entry.Config, MAX_CONFIG_BYTES, `${what}: config`));
    tags.set(digest, [...(tags.get(digest) ?? []), ...entry.RepoTags.map((tag) => formatReference(parseReference(tag)))]);
  }
  return tags;
}

function ociImages(files: ArchiveFiles, what: string, platform: Platform): ArchiveImage[] {
  const index = parseJson(readMember(files, 'index.json', MAX_MANIFEST_BYTES, what), `${what}: index.json`) as { manifests?: unknown };
  if (!Array.isArray(index.manifests)) throw new MinictrError(`${what}: index.json has no manifests list`, 'usage');
  const tags = repoTagsByConfig(files, what);
  return (index.manifests as Record<string, unknown>[]).map((entry, n) => {
    const imageWhat = `image ${n} of ${what}`;
    // A manifest, or an index to choose the platform's manifest from.
    let manifestBytes = readBlob(files, entry.digest as string, MAX_MANIFEST_BYTES, imageWhat);
    let indexBytes: Buffer | null = null;
    if (isIndex(documentType(String(entry.mediaType), manifestBytes, imageWhat))) {
      indexBytes = manifestBytes;
      manifestBytes = readBlob(files, chooseManifest(indexBytes, platform, imageWhat).digest, MAX_MANIFEST_BYTES, imageWhat);
    }
    const manifest = parseManifest(manifestBytes, `manifest of ${imageWhat}`);
    const config = readBlob(files, manifest.config.digest, MAX_CONFIG_BYTES, imageWhat);
    const names = new Set([...annotatedNames(entry.annotations, imageWhat), ...(tags.get(manifest.config.digest) ?? [])]);
    const layerFiles = new Map(manifest.layers.map((layer) => [layer.digest, files.get(`blobs/sha256/${layer.digest.slice('sha256:'.length)}`)]));
    return { names: [...names], manifest: manifestBytes, index: indexBytes, config, what: imageWhat, layerFiles };
  });
}

/** The image's name from an index entry's annotations: containerd's (Docker 25+), or a ref.name that is a whole reference. */
function annotatedNames(annotations: unknown, what: string): string[] {
  const a = (typeof annotations === 'object' && annotations !== null ? annotations : {}) as Record<string, unknown>;
  const name = a['io.containerd.image.name'] ?? a['org.opencontainers.image.ref.name'];
  // A bare tag (`v1`, `latest`) says nothing of the repository: not a name.
  if (typeof name !== 'string' || !name.includes('/')) return [];
  try {
    return [formatReference(parseReference(name))];
  } catch (cause) {
    throw new MinictrError(`${what}: its name "${name}" is not a valid reference`, 'usage', cause);
  }
}

interface DockerEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function dockerEntries(files: ArchiveFiles, what: string): DockerEntry[] {
  const list = parseJson(readMember(files, 'manifest.json', MAX_MANIFEST_BYTES, what), `${what}: manifest.json`);
  const isStrings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
  if (!Array.isArray(list) || list.some((e: DockerEntry) => typeof e?.Config !== 'string' || !isStrings(e.Layers) || !(e.RepoTags === null || e.RepoTags === undefined || isStrings(e.RepoTags)))) {
    throw new MinictrError(`${what}: manifest.json is not a list of {Config, RepoTags, Layers}`, 'usage');
  }
  return (list as DockerEntry[]).map((e) => ({ ...e, RepoTags: e.RepoTags ?? [] }));
}

const MEDIA_TYPE_OF = { tar: LAYER_MEDIA_TYPES.tar[0], gzip: LAYER_MEDIA_TYPES.gzip[0], zstd: LAYER_MEDIA_TYPES.zstd[0] } as const;

async function dockerImages(files: ArchiveFiles, what: string): Promise<ArchiveImage[]> {
  if (files.find('manifest.json') === null) throw new MinictrError(`${what}: neither an OCI image layout (index.json) nor a docker save archive (manifest.json)`, 'usage');
  const images: ArchiveImage[] = [];
  for (const [n, entry] of dockerEntries(files, what).entries()) {
    const imageWhat = `image ${n} of ${what}`;
    const config = readMember(files, entry.Config, MAX_CONFIG_BYTES, imageWhat);
    const layerFiles = new Map<string, string>();
    const layers: Descriptor[] = [];
    for (const name of entry.Layers) {
      const file = files.get(name);
      const digest = await fileDigest(file);
      layerFiles.set(digest, file);
      layers.push({ mediaType: MEDIA_TYPE_OF[detectFileCompression(file)], digest, size: statSync(file).size });
    }
    // The manifest a registry would serve for these blobs (OCI's, whose layer types name each compression).
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers,
    };
    const names = entry.RepoTags.map((tag) => formatReference(parseReference(tag)));
    images.push({ names, manifest: Buffer.from(JSON.stringify(manifest)), index: null, config, what: imageWhat, layerFiles });
  }
  return images;
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
