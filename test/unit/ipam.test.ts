import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ipam } from '../../src/network/ipam.js';
import { parseIpv4, Subnet } from '../../src/network/subnet.js';

describe('Ipam (lease files with O_EXCL)', () => {
  let dir: string;
  let ipam: Ipam;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-ipam-'));
    ipam = new Ipam(join(dir, 'leases'), Subnet.parse('10.0.0.0/29'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out the lowest free address and reuses released ones', () => {
    expect(ipam.claim('a', null)).toBe('10.0.0.2');
    expect(ipam.claim('b', null)).toBe('10.0.0.3');
    ipam.release('a', '10.0.0.2');
    expect(ipam.claim('c', null)).toBe('10.0.0.2');
    expect(ipam.entries().sort()).toEqual([['10.0.0.2', 'c'], ['10.0.0.3', 'b']]);
  });

  it('gives a requested address once and names its holder when asked again', () => {
    expect(ipam.claim('a', parseIpv4('10.0.0.5'))).toBe('10.0.0.5');
    expect(() => ipam.claim('b', parseIpv4('10.0.0.5'))).toThrow(/10\.0\.0\.5 is already in use by container a/);
  });

  it('skips requested leases when picking the lowest free one', () => {
    ipam.claim('a', parseIpv4('10.0.0.2'));
    expect(ipam.claim('b', null)).toBe('10.0.0.3');
  });

  it('reports a full subnet', () => {
    for (let i = 0; i < 5; i++) ipam.claim(`c${i}`, null); // .2 to .6 in a /29
    expect(() => ipam.claim('late', null)).toThrow(/no free address left in 10\.0\.0\.0\/29/);
  });

  it('releases only a lease the owner holds, and treats a missing one as released', () => {
    ipam.claim('a', parseIpv4('10.0.0.2'));
    ipam.release('someone-else', '10.0.0.2');
    expect(readdirSync(ipam.files.dir)).toEqual(['10.0.0.2']);
    ipam.release('a', '10.0.0.2');
    ipam.release('a', '10.0.0.2');
    expect(readdirSync(ipam.files.dir)).toEqual([]);
  });
});
