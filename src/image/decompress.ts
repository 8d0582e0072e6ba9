// The uncompressed tar of a stored layer blob, as a stream: gzip through Node's zlib, zstd through the addon's
// libzstd (Node 20's zlib has none), plain tar as it is. Used to check a layer's diff id (pull) and to unpack it.

import { createReadStream } from 'node:fs';
import { pipeline, Transform, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { MinictrError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import type { Compression } from './manifest.js';

/** zstd as a Transform: each input chunk fed to the native context, output taken 1 MiB at a time. */
export function createZstdDecompress(): Transform {
  const addon = nativeAddon();
  const context = addon.zstdStream();
  // True when the last call that moved data ended a frame: an input stopping mid-frame is truncated.
  let ended = true;
  const feed = (transform: Transform, input: Buffer): void => {
    let rest = input;
    for (;;) {
      const { output, consumed, frameEnded } = addon.zstdDecompress(context, rest);
      if (consumed > 0 || output.length > 0) ended = frameEnded;
      if (output.length > 0) transform.push(output);
      rest = rest.subarray(consumed);
      if (rest.length === 0 && output.length === 0) return;
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        feed(this, chunk);
        done();
      } catch (cause) {
        done(cause as Error);
      }
    },
    flush(done) {
      try {
        feed(this, Buffer.alloc(0));
        done(ended ? null : new MinictrError('zstd: the stream ends in the middle of a frame'));
      } catch (cause) {
        done(cause as Error);
      }
    },
  });
}

/** The layer blob at `path`, decompressed (errors surface on the returned stream). */
export function openLayer(path: string, compression: Compression): Readable {
  const file = createReadStream(path);
  if (compression === 'tar') return file;
  // pipeline: an error on either side destroys both (no file descriptor left open); it surfaces on the result.
  return pipeline(file, compression === 'gzip' ? createGunzip() : createZstdDecompress(), () => {});
}
