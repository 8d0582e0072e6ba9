import { describe, expect, it } from 'vitest';
import { bridgeOperation } from '../../src/network/bridge.js';
import { baseMarker, baseRuleset, staleMaps } from '../../src/network/firewall.js';
import { ipLines } from '../../src/network/links.js';
import { hostVethName, macFor } from '../../src/network/names.js';
import { Subnet } from '../../src/network/subnet.js';
import { vethOperation } from '../../src/network/veth.js';

describe('link operations rendered as ip commands', () => {
  it('creates the container end of the veth directly in the child netns, up on the bridge, then sets hairpin', () => {
    expect(ipLines(vethOperation('mc0123456789ab', 'minictr0', 4242, '02:6d:63:00:00:07'))).toEqual([
      'link add mc0123456789ab up master minictr0 type veth peer name eth0 address 02:6d:63:00:00:07 netns 4242',
      'link set mc0123456789ab type bridge_slave hairpin on',
    ]);
  });

  it('creates the bridge up with its fixed MAC, then replaces its address', () => {
    expect(ipLines(bridgeOperation('minictr0', Subnet.parse('10.0.0.0/24')))).toEqual([
      'link add minictr0 up address 02:6d:63:00:00:01 type bridge',
      'addr replace 10.0.0.1/24 dev minictr0',
    ]);
    expect(ipLines({ kind: 'delete', name: 'mc0123456789ab' })).toEqual(['link del mc0123456789ab']);
  });

  it('derives MAC addresses from IPv4 addresses, so a reused address keeps its MAC', () => {
    expect(macFor(0x0a000001)).toBe('02:6d:63:00:00:01');
    expect(macFor(0x0a0102fe)).toBe('02:6d:63:01:02:fe');
  });

  it('names host veths with a findable prefix within the 15-character limit', () => {
    expect(hostVethName('0123456789ab')).toBe('mc0123456789ab');
    expect(hostVethName('0123456789ab').length).toBeLessThanOrEqual(15);
  });
});

describe('nftables base ruleset', () => {
  const script = baseRuleset(Subnet.parse('10.0.0.0/24'), 'minictr0');

  it('declares the table and chains idempotently, then replaces the rules in the same transaction', () => {
    const lines = script.trim().split('\n');
    expect(lines[0]).toBe('add table ip minictr');
    expect(lines.filter((l) => l.startsWith('flush chain ip minictr '))).toHaveLength(5);
    expect(lines.filter((l) => l.startsWith('flush map'))).toEqual([]);
    const firstRule = lines.findIndex((l) => l.startsWith('add rule'));
    expect(lines.slice(0, firstRule).every((l) => !l.startsWith('add rule'))).toBe(true);
    expect(lines.slice(firstRule).every((l) => l.startsWith('add rule'))).toBe(true);
  });

  it('declares the maps with timeouts after the flush, where an older declaration can be replaced', () => {
    const lines = baseRuleset(Subnet.parse('10.0.0.0/24'), 'minictr0', ['published_any']).trim().split('\n');
    const deleted = lines.indexOf('delete map ip minictr published_any');
    expect(deleted).toBeGreaterThan(lines.lastIndexOf('flush chain ip minictr guard'));
    expect(lines[deleted + 1]).toBe('add map ip minictr published_any { type inet_proto . inet_service : ipv4_addr . inet_service; flags timeout; }');
    expect(lines.filter((l) => l.startsWith('delete'))).toHaveLength(1);
    expect(script).not.toContain('delete map');
  });

  it('finds the maps an older minictr declared without timeouts in a terse listing', () => {
    const map = (name: string, flags: string) => `\tmap ${name} {\n\t\ttype inet_proto . inet_service : ipv4_addr . inet_service\n${flags}\t}\n`;
    const listing = (flags: string) => `table ip minictr {\n${map('published_any', flags)}${map('published_addr', '\t\tflags timeout\n')}}\n`;
    expect(staleMaps(listing(''))).toEqual(['published_any']);
    expect(staleMaps(listing('\t\tflags timeout\n'))).toEqual([]);
    expect(staleMaps('table ip minictr {\n}\n')).toEqual([]);
  });

  it('masquerades the subnet leaving by any other interface and accepts forwarding for it', () => {
    expect(script).toContain('add rule ip minictr postrouting ip saddr 10.0.0.0/24 oifname != "minictr0" masquerade comment');
    expect(script).toContain('add rule ip minictr forward iifname "minictr0" accept comment');
    expect(script).toContain('add rule ip minictr forward oifname "minictr0" ct state established,related accept comment');
    expect(script.indexOf('forward oifname "minictr0" drop')).toBeGreaterThan(script.indexOf('ct status dnat accept'));
    expect(script).toContain('add rule ip minictr guard iifname "minictr0" ip daddr 127.0.0.0/8 drop comment');
  });

  it('leaves container-to-container traffic untracked, but not traffic to the gateway', () => {
    expect(script).toMatch(/add rule ip minictr guard iifname "minictr0" ip saddr 10\.0\.0\.0\/24 ip daddr 10\.0\.0\.0\/24 ip daddr != 10\.0\.0\.1 notrack/);
  });

  it('marks every rule with a hash of the whole ruleset, which changes with it', () => {
    const marker = baseMarker(Subnet.parse('10.0.0.0/24'), 'minictr0');
    expect(marker).toMatch(/^minictr-base-[0-9a-f]{12}$/);
    const rules = script.split('\n').filter((line) => line.startsWith('add rule'));
    expect(rules.length).toBeGreaterThan(10);
    expect(rules.every((line) => line.endsWith(` comment "${marker}"`))).toBe(true);
    expect(baseMarker(Subnet.parse('10.0.1.0/24'), 'minictr0')).not.toBe(marker);
    expect(baseMarker(Subnet.parse('10.0.0.0/24'), 'br1')).not.toBe(marker);
  });
});
