// Random bytes and integers from the kernel's pool (/dev/urandom, the pool getrandom() and node:crypto draw from),
// read with node:fs. Every run needs 32 random bytes for its container id, and loading node:crypto for them cost
// each run about 1.5 ms on Node 20, more than the whole `state` step.

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

/** A uniform integer in [0, max), 0 < max ≤ 2^32: values past the last whole multiple of max are drawn again. */
export function randomInt(max: number): number {
  const limit = 2 ** 32 - (2 ** 32 % max);
  for (;;) {
    const value = randomBytes(4).readUInt32LE(0);
    if (value < limit) return value % max;
  }
}
