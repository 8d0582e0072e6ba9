// Random bytes read from /dev/urandom (src/sys/random.ts), which replace node:crypto's for container ids.

import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { randomBytes } from '../../src/sys/random.js';

describe('random bytes without node:crypto', () => {
  it('gives as many bytes as asked, different each time', () => {
    expect(randomBytes(32)).toHaveLength(32);
    const ids = new Set(Array.from({ length: 100 }, () => newId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });
});

