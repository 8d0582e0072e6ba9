// Strict numbers from the command line (src/sys/numbers.ts): decimal digits, one point where fractions make sense, and
// nothing Number() also accepts.

import { describe, expect, it } from 'vitest';
import { parseDecimal, parseSize, parseWhole } from '../../src/sys/numbers.js';

const NOT_NUMBERS = ['', ' ', ' 5', '5 ', '\t5', '5\n', '+5', '-5', '-0', '0x10', '0o7', '0b1', '1e3', '1E3', 'Infinity', 'NaN', '1_000', '١٢', '5.5.5', '.'];

describe('strict numbers', () => {
  it('parseWhole takes digits only', () => {
    expect(parseWhole('0')).toBe(0);
    expect(parseWhole('42')).toBe(42);
    expect(parseWhole('007')).toBe(7);
    for (const text of [...NOT_NUMBERS, '1.5', '1.']) expect(parseWhole(text), JSON.stringify(text)).toBeNull();
  });

  it('parseDecimal takes one point at most', () => {
    expect(parseDecimal('2')).toBe(2);
    expect(parseDecimal('0.5')).toBe(0.5);
    expect(parseDecimal('.5')).toBe(0.5);
    expect(parseDecimal('2.')).toBe(2);
    for (const text of NOT_NUMBERS) expect(parseDecimal(text), JSON.stringify(text)).toBeNull();
  });

  it('parseSize takes a decimal number and one unit of b, k, m, g', () => {
    expect(parseSize('64m')).toBe(64 * 1024 ** 2);
    expect(parseSize('1G')).toBe(1024 ** 3);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('100')).toBe(100);
    expect(parseSize('7b')).toBe(7);
    expect(parseSize('0.1b')).toBe(0);
    for (const text of [...NOT_NUMBERS, '1e3m', ' 64m', '64m ', '64mb', '64 m', 'm', '0x10g', '-1']) {
      expect(parseSize(text), JSON.stringify(text)).toBeNull();
    }
  });
});
