import { describe, expect, it } from 'vitest';
import { DEFAULT_LOG_OPTIONS, parseLogOptions } from '../../src/container/log-options.js';
import { buildRunSpec } from '../../src/container/spec.js';
import { UsageError } from '../../src/errors.js';
import { Subnet } from '../../src/network/subnet.js';

const context = { defaultRootfs: '/opt/rootfs', subnet: Subnet.parse('10.0.0.0/24'), hostEnv: {}, cwd: '/' };

describe('--log-opt', () => {
  it('defaults to 10m x 3, sized for a tmpfs', () => {
    expect(parseLogOptions([])).toEqual({ maxSize: 10 * 1024 * 1024, maxFile: 3 });
    expect(buildRunSpec({ detach: true }, ['/bin/true'], context).log).toEqual(DEFAULT_LOG_OPTIONS);
  });

  it("reads sizes as --memory does, and counts; a later value wins", () => {
    expect(parseLogOptions(['max-size=1k', 'max-file=5'])).toEqual({ maxSize: 1024, maxFile: 5 });
    expect(parseLogOptions(['max-size=512']).maxSize).toBe(512);
    expect(parseLogOptions(['max-size=512b']).maxSize).toBe(512);
    expect(parseLogOptions(['max-size=10M']).maxSize).toBe(10 * 1024 ** 2);
    expect(parseLogOptions(['max-size=1.5g']).maxSize).toBe(1.5 * 1024 ** 3);
    expect(parseLogOptions(['max-file=1', 'max-file=2']).maxFile).toBe(2);
  });

  it('refuses unknown keys, bad sizes and counts, naming the flag', () => {
    const bad = [
      ['compress=true', /invalid --log-opt "compress=true": unknown option "compress"/],
      ['max-size', /invalid --log-opt "max-size": expected KEY=VALUE/],
      ['max-size=', /max-size must be a positive size/],
      ['max-size=0', /max-size must be a positive size/],
      ['max-size=-1', /max-size must be a positive size/],
      ['max-size=10x', /max-size must be a positive size/],
      ['max-size=0x10', /max-size must be a positive size/],
      ['max-size=1e3', /max-size must be a positive size/],
      ['max-size=99999999999g', /max-size must be a positive size/],
      ['max-file=0', /max-file must be a whole number from 1 to 1000/],
      ['max-file=1001', /max-file must be a whole number/],
      ['max-file=2.5', /max-file must be a whole number/],
      ['max-file= 3', /max-file must be a whole number/],
    ] as const;
    for (const [value, message] of bad) {
      expect(() => parseLogOptions([value]), value).toThrow(UsageError);
      expect(() => parseLogOptions([value]), value).toThrow(message);
    }
  });

  it('needs -d: only detached containers have a log', () => {
    expect(() => buildRunSpec({ logOpt: ['max-file=2'] }, ['/bin/true'], context)).toThrow(/--log-opt needs -d/);
  });
});
