// Writing a tar archive (POSIX ustar) of directories and regular files, for `minictr save`. Members have short
// names (`blobs/sha256/<64 hex>` is 77 bytes: ustar's 100-byte name field holds every one), owner 0:0 and time 0,
// so that saving the same images twice gives the same bytes. Output respects the stream's back-pressure.

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { MinictrError } from '../errors.js';

const BLOCK = 512;

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

/** A ustar header block for a regular file ('0') or a directory ('5'). */
export function tarHeader(name: string, type: '0' | '5', size: number, mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new MinictrError(`tar: member name "${name}" is longer than 100 bytes`);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  octal(block, 100, 8, mode);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, 0);
  block.write(type, 156, 1, 'latin1');
  block.write('ustar\x0000', 257, 8, 'latin1');
  block.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

export class TarWriter {
  constructor(private readonly out: Writable) {}

  private async write(bytes: Buffer): Promise<void> {
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  async directory(name: string): Promise<void> {
    await this.write(tarHeader(`${name}/`, '5', 0, 0o755));
  }

  async bytes(name: string, content: Buffer): Promise<void> {
    await this.write(tarHeader(name, '0', content.length, 0o644));
    await this.write(content);
    await this.pad(content.length);
  }

  /** Member `name` with the content of the file at `path`, which must be `size` bytes long. */
  async file(name: string, path: string, size: number): Promise<void> {
    await this.write(tarHeader(name, '0', size, 0o644));
    let written = 0;
    for await (const chunk of createReadStream(path)) {
      written += (chunk as Buffer).length;
      if (written > size) break;
      await this.write(chunk as Buffer);
    }
    if (written !== size) throw new MinictrError(`tar: ${path} changed while it was written (${written} bytes, expected ${size})`);
    await this.pad(size);
  }

  /** The two zero blocks that end an archive. */
  async end(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }

  private async pad(size: number): Promise<void> {
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0) await this.write(Buffer.alloc(padding));
  }
}
