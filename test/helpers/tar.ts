// Tar archives built byte by byte, for layers no well-behaved tar tool would write: names with "..", absolute
// paths, symlinks and hard links aimed out of the root, whiteouts, devices, PAX records with binary xattrs or NULs.

export interface RawEntry {
  /** Raw bytes or text of the name field (up to 100 bytes; longer names go in `pax.path`). */
  name: string | Buffer;
  /** Tar type flag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' directory, '6' FIFO. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  content?: string | Buffer;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records for this entry (values raw: xattrs are binary). */
  pax?: Record<string, string | Buffer>;
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'latin1');
}

function header(name: string | Buffer, type: string, size: number, entry: Omit<RawEntry, 'name'>): Buffer {
  const block = Buffer.alloc(512);
  Buffer.from(name).copy(block, 0, 0, 100);
  octal(block, 100, 8, entry.mode ?? (type === '5' ? 0o755 : 0o644));
  octal(block, 108, 8, entry.uid ?? 0);
  octal(block, 116, 8, entry.gid ?? 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, entry.mtime ?? 1_600_000_000);
  block.write(type, 156, 1, 'latin1');
  Buffer.from(entry.linkname ?? '').copy(block, 157, 0, 100);
  block.write('ustar\x0000', 257, 8, 'latin1');
  octal(block, 329, 8, entry.devmajor ?? 0);
  octal(block, 337, 8, entry.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecords(pax: Record<string, string | Buffer>): Buffer {
  return Buffer.concat(
    Object.entries(pax).map(([key, value]) => {
      const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
      let length = body.length + 1;
      while (String(length).length + body.length !== length) length++;
      return Buffer.concat([Buffer.from(String(length)), body]);
    }),
  );
}

/** One archive of these entries, ended by two zero blocks. */
export function tarArchive(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.pax !== undefined) {
      const records = paxRecords(entry.pax);
      parts.push(header('PaxHeader', 'x', records.length, {}), padded(records));
    }
    const content = Buffer.from(entry.content ?? '');
    parts.push(header(entry.name, entry.type ?? '0', content.length, entry), padded(content));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A version 2 security.capability value granting `bits` (permitted and effective). */
export function fileCapability(bits: number): Buffer {
  const value = Buffer.alloc(20);
  value.writeUInt32LE(0x02000001, 0); // VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE
  value.writeUInt32LE(bits, 4);
  return value;
}
