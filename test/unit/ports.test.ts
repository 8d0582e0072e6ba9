import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { publishLines, unpublishScript } from '../../src/network/firewall.js';
import { ANY_PORT, describeMapping, ephemeralPorts, parseExpose, parsePublish, parsePublishFlags, publishAll } from '../../src/network/ports.js';

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
    ['a:b:c:d', /expected \[HOST_IP:\]\[HOST_PORT:\]CONTAINER_PORT/],
    ['', /"" is not a port/],
    ['0:80', /host port 0 is not in 1-65535/],
    ['80:65536', /container port 65536 is not in 1-65535/],
    ['http:80', /"http" is not a port/],
    ['8080:80/sctp', /protocol must be tcp or udp/],
    ['8080:80/tcp/udp', /protocol must be tcp or udp/],
    ['300.1.1.1:80:80', /"300\.1\.1\.1" is not an IPv4 address/],
    ['8002-8000:80-82', /reversed/],
    ['8000-8002:80-81', /differ in length/],
    ['1-2000:1-2000', /more than 1024 ports/],
    ['[::1]:8080:80', /"\[::1\]:8080:80": a host IPv6 address is not supported; without an address the port is published on every address of the host, \[::1\] included/],
  ])('rejects %s', (spec, message) => {
    expect(() => parsePublish(spec)).toThrow(UsageError);
    expect(() => parsePublish(spec)).toThrow(message);
  });

  it('leaves the host port to the run without one: 80, 127.0.0.1::53/udp, a container range', () => {
    expect(parsePublish('80')).toEqual([{ hostIp: null, hostPort: ANY_PORT, containerPort: 80, protocol: 'tcp' }]);
    expect(parsePublish(':80')).toEqual([{ hostIp: null, hostPort: ANY_PORT, containerPort: 80, protocol: 'tcp' }]);
    expect(parsePublish('127.0.0.1::53/udp')).toEqual([{ hostIp: '127.0.0.1', hostPort: ANY_PORT, containerPort: 53, protocol: 'udp' }]);
    expect(parsePublish('8000-8001').map((m) => [m.hostPort, m.containerPort])).toEqual([[ANY_PORT, 8000], [ANY_PORT, 8001]]);
    expect(parsePublishFlags(['80', '81', '82:80'])).toHaveLength(3); // chosen ports are never given twice
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

  it('unpublishes idempotently: each element re-added with a timeout that ends at the next tick', () => {
    expect(unpublishScript(mappings, '10.0.0.2').trim().split('\n')).toEqual([
      'add element ip minictr published_any { tcp . 8080 timeout 1s expires 1ms : 10.0.0.2 . 80 }',
      'add element ip minictr published_addr { 127.0.0.1 . udp . 8053 timeout 1s expires 1ms : 10.0.0.2 . 53 }',
    ]);
  });
});

describe('-P and --expose', () => {
  it('reads --expose as ExposedPorts entries', () => {
    expect(parseExpose('80')).toEqual(['80/tcp']);
    expect(parseExpose('53/udp')).toEqual(['53/udp']);
    expect(parseExpose('8000-8002/tcp')).toEqual(['8000/tcp', '8001/tcp', '8002/tcp']);
    for (const bad of ['0', '70000', '80/sctp', 'http', '90-80', '1-2000', '80:80']) {
      expect(() => parseExpose(bad), bad).toThrow(/invalid --expose/);
    }
  });

  it('publishes each exposed port once, on a host port to choose, unless -p publishes it already', () => {
    const explicit = parsePublishFlags(['8080:80']);
    expect(publishAll(['80/tcp', '80/udp', '443/tcp', '443/tcp'], explicit)).toEqual([
      { hostIp: null, hostPort: ANY_PORT, containerPort: 80, protocol: 'udp' },
      { hostIp: null, hostPort: ANY_PORT, containerPort: 443, protocol: 'tcp' },
    ]);
    expect(() => publishAll(['9/sctp'], [])).toThrow(/exposed port 9\/sctp: only tcp and udp/);
  });

  it('reads the ephemeral range and its reserved ports', () => {
    expect(ephemeralPorts('32768\t60999\n', '\n')).toEqual({ first: 32768, last: 60999, reserved: new Set() });
    expect(ephemeralPorts('40000 40010', '8080,40002-40003,40010-50000\n').reserved).toEqual(new Set([40002, 40003, 40010]));
    expect(() => ephemeralPorts('garbage', '')).toThrow(/ephemeral port range/);
  });
});
