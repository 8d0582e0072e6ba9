import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../../src/sys/timestamp.js';

describe('isoTimestamp', () => {
  it('prints what Date.prototype.toISOString prints', () => {
    const samples = [
      0,
      951_782_400_000, // 2000-02-29, a leap day of a century leap year
      4_107_542_399_999, // 2100-02-28T23:59:59.999Z (2100 is no leap year)
      4_107_542_400_000,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.now(),
    ];
    // And a day-by-day walk over 1970-2500, at a changing time of day.
    for (let day = 0; day < 193_000; day += 7) samples.push(day * 86_400_000 + ((day * 3_600_007) % 86_400_000));
    for (const ms of samples) expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });

  it('defaults to now', () => {
    const before = Date.now();
    const printed = Date.parse(isoTimestamp());
    expect(printed).toBeGreaterThanOrEqual(before);
    expect(printed).toBeLessThanOrEqual(Date.now());
  });
});
