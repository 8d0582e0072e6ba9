import { describe, expect, it } from 'vitest';
import { MinictrError, UsageError } from '../../src/errors.js';
import { proxyArgv, proxyFailure } from '../../src/network/loopback-proxy.js';
import { mappings6 } from '../../src/network/network-firewall.js';
import { parsePublishFlags } from '../../src/network/ports.js';

describe('minictr-proxy (-p on [::1])', () => {
  const mappings = parsePublishFlags(['8080:80', '5300:53/udp']);

  it('is given nobody, the container address as 32 hex digits, and one protocol:host:container per port', () => {
    expect(proxyArgv(mappings, 'fd00:40::80')).toEqual(['minictr-proxy', '65534', '65534', 'fd000040000000000000000000000080', 'tcp:8080:80', 'udp:5300:53']);
    expect(proxyArgv(mappings, '::')[3]).toBe('0'.repeat(32));
  });

  it('serves the ports published without a host address only (an IPv4 address is not IPv6)', () => {
    expect(mappings6(parsePublishFlags(['127.0.0.1:8081:80', '8082:80'])).map((m) => m.hostPort)).toEqual([8082]);
  });

  it('reads its answer: ready, a port in use on [::1] (the user\'s, exit 125), any other failure (minictr\'s)', () => {
    expect(proxyFailure('ready', mappings)).toBeNull();
    const inUse = proxyFailure('error bind 1 98', mappings);
    expect(inUse).toBeInstanceOf(UsageError);
    expect(inUse?.message).toBe('cannot publish port 5300/udp on [::1]: a host process is already using it there');
    const other = proxyFailure('error socket 0 24', mappings);
    expect(other).not.toBeInstanceOf(UsageError);
    expect(other).toBeInstanceOf(MinictrError);
    expect(other?.message).toBe('start minictr-proxy: socket for port 8080/tcp: EMFILE');
    expect(proxyFailure('error drop privileges 0 1', mappings)?.message).toBe('start minictr-proxy: drop privileges: EPERM');
    expect(proxyFailure('garbage', mappings)?.message).toBe('start minictr-proxy: unexpected answer "garbage"');
  });
});
