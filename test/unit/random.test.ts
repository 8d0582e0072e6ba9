// Randomness read from /dev/urandom (src/sys/random.ts) and the rulesets' short hash (src/sys/text-hash.ts), both
// of which replace node:crypto on the run path.

import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { randomBytes, randomInt } from '../../src/sys/random.js';
import { textHash } from '../../src/sys/text-hash.js';

describe('random bytes without node:crypto', () => {
  it('gives as many bytes as asked, different each time', () => {
    expect(randomBytes(32)).toHaveLength(32);
    const ids = new Set(Array.from({ length: 100 }, () => newId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('draws integers below the bound, all of them in time', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = randomInt(7);
      expect(Number.isInteger(value) && value >= 0 && value < 7).toBe(true);
      seen.add(value);
    }
    expect(seen.size).toBe(7);
    expect(randomInt(1)).toBe(0);
    expect(randomInt(2 ** 32)).toBeLessThan(2 ** 32);
  });
});

describe('textHash', () => {
  it('is 12 hex digits, the same for the same text and different for another', () => {
    const text = 'add table ip minictr\nadd chain ip minictr forward';
    expect(textHash(text)).toMatch(/^[0-9a-f]{12}$/);
    expect(textHash(text)).toBe(textHash(`${text}`));
    expect(textHash(`${text} `)).not.toBe(textHash(text));
    expect(textHash('')).toMatch(/^[0-9a-f]{12}$/);
    const hashes = new Set(Array.from({ length: 1000 }, (_, i) => textHash(`rule ${i}`)));
    expect(hashes.size).toBe(1000);
  });
});
