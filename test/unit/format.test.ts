// Durations worded as Docker words them in ps and images.
import { describe, expect, it } from 'vitest';
import { humanDuration } from '../../src/format.js';

describe('humanDuration', () => {
  it("follows go-units' HumanDuration", () => {
    const s = 1000;
    const cases: [number, string][] = [
      [0, 'Less than a second'],
      [999, 'Less than a second'],
      [1 * s, '1 second'],
      [59 * s, '59 seconds'],
      [60 * s, 'About a minute'],
      [119 * s, 'About a minute'],
      [120 * s, '2 minutes'],
      [59 * 60 * s, '59 minutes'],
      [60 * 60 * s, 'About an hour'],
      [90 * 60 * s, '2 hours'],
      [47 * 3600 * s, '47 hours'],
      [48 * 3600 * s, '2 days'],
      [14 * 86400 * s, '2 weeks'],
      [60 * 86400 * s, '2 months'],
      [730 * 86400 * s, '2 years'],
    ];
    for (const [ms, words] of cases) expect(humanDuration(ms), `${ms} ms`).toBe(words);
  });
});
