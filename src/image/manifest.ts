// Reading what a registry or an archive says an image is (image-spec's index, manifest and config, and Docker's
// schema 2 equivalents), and choosing the manifest of one platform from an index. Pure: the bytes come in, checked
// shapes come out. Every digest is validated here, before anything uses it as a URL path or a file name.

import { createHash } from 'node:crypto';
import { MinictrError } from '../errors.js';
import { DIGEST } from './reference.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** containerd's cap on a manifest or index. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** An image config is small; Docker Hub's largest are well under a megabyte. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** What an index or manifest says of a blob it names. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A digest, checked before it is used in a URL or becomes a file name. */
export function checkDigest(digest: unknown, what: string): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) throw malformed(what, `"${String(digest)}" is not a sha256 digest`);
  return digest;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

/** The parts of an image config that minictr uses (image-spec's config.json). */
export interface ImageConfig {
  architecture: string;
  os: string;
  created?: string;
  config: {
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    StopSignal?: string;
    Labels?: Record<string, string>;
  };
  rootfs: { type: string; diff_ids: string[] };
}

/** The part of a config's `config` a run takes (image-config.ts). */
export type RunConfig = Pick<ImageConfig['config'], 'Env' | 'Entrypoint' | 'Cmd' | 'WorkingDir' | 'User' | 'ExposedPorts' | 'StopSignal'>;

/** The run fields of a config checked by parseImageConfig, without the rest (Labels and whatever else it holds). */
export function runConfig(config: ImageConfig['config']): RunConfig {
  const { Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, StopSignal } = config;
  return { Env, Entrypoint, Cmd, WorkingDir, User, ExposedPorts, StopSignal };
}

export const LAYER_MEDIA_TYPES = {
  tar: ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar'],
  gzip: [
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
    'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ],
  zstd: ['application/vnd.oci.image.layer.v1.tar+zstd', 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'],
} as const;

export type Compression = keyof typeof LAYER_MEDIA_TYPES;

function malformed(what: string, why: string): MinictrError {
  return new MinictrError(`${what}: ${why}`);
}

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new MinictrError(`${what}: not JSON`, 'failure', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(what, 'not a JSON object');
  return value as Record<string, unknown>;
}

function descriptor(value: unknown, what: string): Descriptor {
  const d = (value ?? {}) as Record<string, unknown>;
  if (typeof d.mediaType !== 'string' || !Number.isSafeInteger(d.size) || (d.size as number) < 0) {
    throw malformed(what, 'a descriptor needs a mediaType and a size');
  }
  return { mediaType: d.mediaType, digest: checkDigest(d.digest, what), size: d.size as number };
}

/** The media type of a manifest document: the header's, or failing that the document's own field. */
export function documentType(mediaType: string, bytes: Buffer, what: string): string {
  const own = parseJson(bytes, what).mediaType;
  if (typeof own === 'string' && own !== '') return own;
  return mediaType;
}

export function isIndex(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList;
}

/** This host's platform, in image-spec's words. */
export function hostPlatform(): Platform {
  const architectures: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  return architectures[process.arch] ?? { os: 'linux', architecture: process.arch };
}

/** `linux/arm64/v8`, `linux/amd64` (as --platform takes it). */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^[a-z0-9_]+$/.test(part))) {
    throw new MinictrError(`invalid --platform "${text}": os/architecture[/variant], such as linux/amd64`, 'usage');
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] !== undefined ? { variant: parts[2] } : {}) };
}

export function formatPlatform(platform: Platform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/**
 * The manifest for `platform` in an index. A variant asked for must match; one not asked for matches any (arm64's
 * "v8" is often left out of indexes, so an unnamed variant matches v8 too). Attestation manifests
 * (platform unknown/unknown) never match.
 */
export function chooseManifest(bytes: Buffer, platform: Platform, what: string): Descriptor {
  const index = parseJson(bytes, what);
  if (!Array.isArray(index.manifests)) throw malformed(what, 'an index needs a manifests list');
  const offered: string[] = [];
  for (const [n, entry] of (index.manifests as unknown[]).entries()) {
    const candidate = descriptor(entry, `${what}: manifest ${n}`);
    const p = ((entry as Record<string, unknown>).platform ?? {}) as Record<string, unknown>;
    if (typeof p.os !== 'string' || typeof p.architecture !== 'string') continue;
    const variant = typeof p.variant === 'string' ? p.variant : undefined;
    offered.push(formatPlatform({ os: p.os, architecture: p.architecture, ...(variant !== undefined ? { variant } : {}) }));
    if (p.os !== platform.os || p.architecture !== platform.architecture) continue;
    if (platform.variant !== undefined && variant !== undefined && variant !== platform.variant) continue;
    return candidate;
  }
  const available = offered.filter((name) => name !== 'unknown/unknown');
  throw new MinictrError(
    `${what}: no manifest for ${formatPlatform(platform)}; the image is for ${available.length > 0 ? available.join(', ') : 'no platform at all'} (choose one with --platform)`,
  );
}

/** An image manifest: its config and its layers, in order, each a checked descriptor. */
export function parseManifest(bytes: Buffer, what: string): ImageManifest {
  const manifest = parseJson(bytes, what);
  if (manifest.schemaVersion !== 2) throw malformed(what, 'only schema version 2 manifests are supported');
  if (!Array.isArray(manifest.layers)) throw malformed(what, 'a manifest needs a layers list');
  const layers = (manifest.layers as unknown[]).map((layer, n) => descriptor(layer, `${what}: layer ${n}`));
  for (const layer of layers) layerCompression(layer.mediaType, what);
  return { config: descriptor(manifest.config, `${what}: config`), layers };
}

/** How a layer is compressed, from its media type; a type minictr cannot unpack is an error naming it. */
export function layerCompression(mediaType: string, what: string): Compression {
  for (const [compression, types] of Object.entries(LAYER_MEDIA_TYPES) as [Compression, readonly string[]][]) {
    if (types.includes(mediaType)) return compression;
  }
  throw malformed(what, `layers of type ${mediaType} cannot be unpacked`);
}

/** An image config, checked for what minictr relies on: one diff id per layer. */
export function parseImageConfig(bytes: Buffer, layerCount: number, what: string): ImageConfig {
  const config = parseJson(bytes, what) as unknown as ImageConfig;
  const diffIds = config.rootfs?.diff_ids;
  if (config.rootfs?.type !== 'layers' || !Array.isArray(diffIds)) throw malformed(what, 'rootfs.diff_ids is missing');
  if (diffIds.length !== layerCount) throw malformed(what, `${diffIds.length} diff ids for ${layerCount} layers`);
  diffIds.forEach((id, n) => checkDigest(id, `${what}: diff id ${n}`));
  if (typeof config.config !== 'object' || config.config === null) config.config = {};
  checkRunConfig(config.config, what);
  return config;
}

/**
 * The fields a run takes from an image must have the types the spec gives them: an image is hostile, and a string
 * Cmd spread into letters, or an Env entry that is an object, must be an error naming the field, not a surprise.
 */
function checkRunConfig(run: ImageConfig['config'], what: string): void {
  const isStrings = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');
  for (const field of ['Entrypoint', 'Cmd'] as const) {
    if (run[field] !== undefined && run[field] !== null && !isStrings(run[field])) throw malformed(what, `config.${field} is not a list of strings`);
  }
  if (run.Env !== undefined && run.Env !== null && !isStrings(run.Env)) throw malformed(what, 'config.Env is not a list of strings');
  for (const field of ['WorkingDir', 'User', 'StopSignal'] as const) {
    if (run[field] !== undefined && typeof run[field] !== 'string') throw malformed(what, `config.${field} is not a string`);
  }
  if (run.ExposedPorts !== undefined && (typeof run.ExposedPorts !== 'object' || run.ExposedPorts === null)) {
    throw malformed(what, 'config.ExposedPorts is not an object');
  }
}
