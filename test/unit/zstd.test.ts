import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createZstdDecompress } from '../../src/image/decompress.js';

async function decompress(input: Buffer, chunk: number): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunk) pieces.push(input.subarray(at, at + chunk));
  const out: Buffer[] = [];
  for await (const piece of Readable.from(pieces).pipe(createZstdDecompress())) out.push(piece as Buffer);
  return Buffer.concat(out);
}

describe('createZstdDecompress (libzstd through the addon)', () => {
  // Random bytes and a long run of zeros (which expands far more than the 1 MiB a call may make).
  const data = Buffer.concat([randomBytes(300_000), Buffer.alloc(5_000_000)]);
  const compressed = execFileSync('zstd', ['-q', '-c'], { input: data, maxBuffer: 1 << 26 });

  it('decompresses in any chunking, and two concatenated frames', async () => {
    for (const chunk of [1000, 65536, compressed.length]) expect((await decompress(compressed, chunk)).equals(data)).toBe(true);
    expect((await decompress(Buffer.concat([compressed, compressed]), 4096)).equals(Buffer.concat([data, data]))).toBe(true);
  });

  it('refuses a truncated stream and garbage', async () => {
    await expect(decompress(compressed.subarray(0, compressed.length - 10), 4096)).rejects.toThrow('zstd: the stream ends in the middle of a frame');
    await expect(decompress(Buffer.from('not zstd at all'), 4096)).rejects.toThrow(/^zstd: /);
  });
});
