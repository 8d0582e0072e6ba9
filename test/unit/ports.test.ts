import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { publishLines, unpublishScript } from '../../src/network/firewall.js';
import { describeMapping, parsePublish, parsePublishFlags } from '../../src/network/ports.js';

describe('parsePublish', () => {
  it('reads HOST:CONTAINER with tcp by default', () => {
    expect(parsePublish('8080:80')).toEqual([{ hostIp: null, hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
  });

  it('reads a host IP, udp, and treats 0.0.0.0 as every address', () => {
    expect(parsePublish('127.0.0.1:8053:53/udp')).toEqual([{ hostIp: '127.0.0.1', hostPort: 8053, containerPort: 53, protocol: 'udp' }]);
    expect(parsePublish('0.0.0.0:80:80')[0]!.hostIp).toBeNull();
    expect(parsePublish(':80:80')[0]!.hostIp).toBeNull();
  });

  it('expands ranges port by port', () => {
    expect(parsePublish('8000-8002:9000-9002').map((m) => [m.hostPort, m.containerPort])).toEqual([
      [8000, 9000],
      [8001, 9001],
      [8002, 9002],
    ]);
  });

  it.each([
    ['8080', /expected \[HOST_IP:\]HOST_PORT:CONTAINER_PORT/],
    ['a:b:c:d', /expected/],
    ['0:80', /host port 0 is not in 1-65535/],
    ['80:65536', /container port 65536 is not in 1-65535/],
    ['http:80', /"http" is not a port/],
    ['8080:80/sctp', /protocol must be tcp or udp/],
    ['8080:80/tcp/udp', /protocol must be tcp or udp/],
    ['300.1.1.1:80:80', /"300\.1\.1\.1" is not an IPv4 address/],
    ['8002-8000:80-82', /reversed/],
    ['8000-8002:80-81', /differ in length/],
    ['1-2000:1-2000', /more than 1024 ports/],
  ])('rejects %s', (spec, message) => {
    expect(() => parsePublish(spec)).toThrow(UsageError);
    expect(() => parsePublish(spec)).toThrow(message);
  });

  it('refuses the same host port twice across flags, but allows it for another protocol', () => {
    expect(() => parsePublishFlags(['8080:80', '8079-8081:1-3'])).toThrow(/8080\/tcp is published twice/);
    expect(parsePublishFlags(['53:53/tcp', '53:53/udp'])).toHaveLength(2);
  });

  it('describes a mapping as Docker prints it', () => {
    expect(describeMapping(parsePublish('8080:80')[0]!, '10.0.0.2')).toBe('0.0.0.0:8080/tcp -> 10.0.0.2:80');
  });
});

describe('published port map elements', () => {
  const mappings = parsePublishFlags(['8080:80', '127.0.0.1:8053:53/udp']);

  it('puts wildcard ports in published_any and address-bound ones in published_addr', () => {
    expect(publishLines(mappings, '10.0.0.2')).toEqual([
      'add element ip minictr published_any { tcp . 8080 : 10.0.0.2 . 80 }',
      'add element ip minictr published_addr { 127.0.0.1 . udp . 8053 : 10.0.0.2 . 53 }',
    ]);
  });

  it('unpublishes idempotently: add, then delete by key, in one transaction', () => {
    expect(unpublishScript(mappings, '10.0.0.2').trim().split('\n')).toEqual([
      'add element ip minictr published_any { tcp . 8080 : 10.0.0.2 . 80 }',
      'delete element ip minictr published_any { tcp . 8080 }',
      'add element ip minictr published_addr { 127.0.0.1 . udp . 8053 : 10.0.0.2 . 53 }',
      'delete element ip minictr published_addr { 127.0.0.1 . udp . 8053 }',
    ]);
  });
});
