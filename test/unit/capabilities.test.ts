import { describe, expect, it } from 'vitest';
import { CAPABILITIES, DEFAULT_CAPABILITIES, resolveCapabilities } from '../../src/container/capabilities.js';

const mask = (caps: number[]) => caps.reduce((bits, cap) => bits | (1n << BigInt(cap)), 0n).toString(16);

describe('resolveCapabilities', () => {
  it("starts from Docker's default set (mask a80425fb)", () => {
    expect(mask(resolveCapabilities([], []))).toBe('a80425fb');
    expect(resolveCapabilities([], [])).toHaveLength(DEFAULT_CAPABILITIES.length);
  });

  it('accepts names with or without CAP_, in any case', () => {
    expect(resolveCapabilities(['cap_net_admin'], ['NET_RAW'])).toContain(CAPABILITIES.NET_ADMIN);
    expect(resolveCapabilities(['cap_net_admin'], ['NET_RAW'])).not.toContain(CAPABILITIES.NET_RAW);
  });

  it('handles ALL on either side', () => {
    expect(resolveCapabilities([], ['ALL'])).toEqual([]);
    expect(resolveCapabilities(['KILL'], ['ALL'])).toEqual([CAPABILITIES.KILL]);
    expect(resolveCapabilities(['ALL'], ['SYS_ADMIN'])).toHaveLength(Object.keys(CAPABILITIES).length - 1);
  });

  it('rejects unknown names', () => {
    expect(() => resolveCapabilities(['FLY'], [])).toThrow(/invalid --cap-add "FLY": unknown capability/);
    expect(() => resolveCapabilities([], ['CAP_'])).toThrow(/invalid --cap-drop/);
  });
});
