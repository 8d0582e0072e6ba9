// Random bytes from the kernel's pool (/dev/urandom, the pool getrandom() and node:crypto draw from), read with
// node:fs: every run needs 32 of them for its container id, and loading node:crypto for them cost each run 1.5 ms.

import { closeSync, openSync, readSync } from 'node:fs';

export function randomBytes(count: number): Buffer {
  const bytes = Buffer.alloc(count);
  const fd = openSync('/dev/urandom', 'r');
  try {
    const read = readSync(fd, bytes);
    if (read !== count) throw new Error(`read ${count} bytes from /dev/urandom: got ${read}`);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
