import { describe, expect, it } from 'vitest';
import { formatIpv4, parseIpv4, Subnet } from '../../src/network/subnet.js';

describe('parseIpv4 / formatIpv4', () => {
  it('round-trips dotted quads', () => {
    for (const text of ['0.0.0.0', '10.0.0.2', '255.255.255.255', '192.168.1.10']) {
      expect(formatIpv4(parseIpv4(text)!)).toBe(text);
    }
  });

  it('rejects anything that is not four decimal octets', () => {
    for (const text of ['', '10.0.0', '10.0.0.0.1', '10.0.0.256', '10.0.0.07', '10.0.0.-1', 'a.b.c.d', '10.0.0.2 ', '0x0a.0.0.1']) {
      expect(parseIpv4(text), text).toBeNull();
    }
  });
});

describe('Subnet', () => {
  const subnet = Subnet.parse('10.0.0.0/24');

  it('knows its network, gateway, broadcast and host range', () => {
    expect(formatIpv4(subnet.network)).toBe('10.0.0.0');
    expect(formatIpv4(subnet.gateway)).toBe('10.0.0.1');
    expect(formatIpv4(subnet.broadcast)).toBe('10.0.0.255');
    expect(formatIpv4(subnet.firstHost)).toBe('10.0.0.2');
    expect(formatIpv4(subnet.lastHost)).toBe('10.0.0.254');
    expect(subnet.toString()).toBe('10.0.0.0/24');
  });

  it('says why an address is unusable', () => {
    expect(subnet.unusableReason(parseIpv4('10.0.0.2')!)).toBeNull();
    expect(subnet.unusableReason(parseIpv4('10.0.0.254')!)).toBeNull();
    expect(subnet.unusableReason(parseIpv4('10.0.1.2')!)).toMatch(/outside/);
    expect(subnet.unusableReason(parseIpv4('10.0.0.0')!)).toMatch(/network address/);
    expect(subnet.unusableReason(parseIpv4('10.0.0.1')!)).toMatch(/gateway/);
    expect(subnet.unusableReason(parseIpv4('10.0.0.255')!)).toMatch(/broadcast/);
  });

  it('handles other prefix lengths, including high addresses', () => {
    const wide = Subnet.parse('172.16.0.0/12');
    expect(formatIpv4(wide.broadcast)).toBe('172.31.255.255');
    expect(wide.contains(parseIpv4('172.20.1.1')!)).toBe(true);
    expect(wide.contains(parseIpv4('172.32.0.1')!)).toBe(false);
    const high = Subnet.parse('240.0.0.0/30');
    expect(formatIpv4(high.lastHost)).toBe('240.0.0.2');
  });

  it('rejects malformed subnets', () => {
    for (const cidr of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/31', '10.0.0.1/24', 'x/24']) {
      expect(() => Subnet.parse(cidr), cidr).toThrow(/invalid subnet/);
    }
  });
});
