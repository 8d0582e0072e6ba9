// `minictr import FILE REF`: a flat root filesystem tar (`docker export`'s, `tar -C rootfs -c .`'s; gzip or zstd
// compression is detected) as a one-layer image, as `docker import` makes one. In numbered steps:
//   1. the tar, decompressed, copied to tmp/ while it is hashed (its digest is both the layer's and its diff id)
//      and read entry by entry (tar-reader.ts), so that what is not a tar is refused now, not at the first run
//   2. a minimal config (this host's platform, the creation time, no command: `run` needs one) and a manifest
//   3. stored by commit.ts, as a pulled image is (and so unpacked); the layer is kept uncompressed

import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { MinictrError } from '../errors.js';
import { storeImage } from './commit.js';
import { decompressDetected, DecompressionBomb } from './decompress.js';
import { fileBytes } from './layer-intake.js';
import { hostPlatform, LAYER_MEDIA_TYPES, MEDIA_TYPES, sha256 } from './manifest.js';
import { formatReference, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';
import { TarReader } from './tar-reader.js';

export async function importRootfs(source: Readable, reference: string, what: string, store: ImageStore): Promise<ImageRecord> {
  const name = formatReference(parseReference(reference));
  store.removeAbandoned();
  const temp = store.tempPath();
  try {
    // 1. The layer, copied, hashed and checked.
    const hash = createHash('sha256');
    const file = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
    let size = 0;
    async function* copied(): AsyncGenerator<Buffer> {
      for await (const chunk of await decompressDetected(source)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        if (!file.write(chunk)) await once(file, 'drain');
        yield chunk as Buffer;
      }
    }
    try {
      const reader = new TarReader(copied());
      while ((await reader.next()) !== null);
      await reader.finish();
    } catch (cause) {
      if (cause instanceof DecompressionBomb) throw new MinictrError(`import ${what}: ${cause.message}`, 'usage', cause);
      throw new MinictrError(`import ${what}: not a tar archive of a root filesystem: ${(cause as Error).message}`, 'usage', cause);
    } finally {
      file.end();
      await once(file, 'close');
    }
    if (size === 0) throw new MinictrError(`import ${what}: it is empty, not a tar archive of a root filesystem`, 'usage');
    const digest = `sha256:${hash.digest('hex')}`;
    // 2. Config and manifest.
    const created = new Date().toISOString();
    const platform = hostPlatform();
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture: platform.architecture,
        ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
        os: platform.os,
        config: {},
        rootfs: { type: 'layers', diff_ids: [digest] },
        history: [{ created, created_by: `minictr import ${what}`, comment: 'Imported from tarball' }],
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: [{ mediaType: LAYER_MEDIA_TYPES.tar[0], digest, size }],
      }),
    );
    // 3. Stored.
    const [record] = await storeImage(store, { names: [name], manifest, index: null, config, what: name, openLayer: async () => fileBytes(temp, `the layer of ${what}`) });
    return record!;
  } finally {
    rmSync(temp, { force: true });
  }
}
