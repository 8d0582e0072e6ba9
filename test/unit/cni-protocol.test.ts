// minictr-cni's reading of a request (CNI_* environment + configuration) and its ADD result, without a host.

import { describe, expect, it } from 'vitest';
import { addResult, CniError, parseRequest } from '../../src/cni/protocol.js';

const CONFIG = { cniVersion: '1.0.0', name: 'mcnet', type: 'minictr-cni', bridge: 'cni-mc0', ipam: { subnet: '10.88.7.0/24' } };
const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc123', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0' };

function codeOf(action: () => unknown): number {
  try {
    action();
  } catch (cause) {
    if (cause instanceof CniError) return cause.code;
    throw cause;
  }
  throw new Error('no error');
}

describe('CNI requests', () => {
  it('reads ADD with its port mappings', () => {
    const request = parseRequest(ENV, JSON.stringify({ ...CONFIG, runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'udp', hostIP: '' }] } }));
    expect(request).toMatchObject({ command: 'ADD', key: { containerId: 'abc123', ifname: 'eth0' }, netns: '/run/netns/x' });
    if (request.command !== 'ADD') throw new Error('not ADD');
    expect(request.ports).toEqual([{ hostIp: null, hostPort: 8080, containerPort: 80, protocol: 'udp' }]);
    expect(request.network.subnet.toString()).toBe('10.88.7.0/24');
  });

  it('reads DEL without a namespace, and GC with its valid attachments', () => {
    expect(parseRequest({ ...ENV, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, JSON.stringify(CONFIG))).toMatchObject({ command: 'DEL', netns: '' });
    const gc = parseRequest({ CNI_COMMAND: 'GC' }, JSON.stringify({ ...CONFIG, cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'a', ifname: 'eth0' }] }));
    expect(gc).toMatchObject({ command: 'GC', valid: [{ containerId: 'a', ifname: 'eth0' }] });
  });

  it('refuses each kind of bad input with the spec code', () => {
    const config = (override: object) => JSON.stringify({ ...CONFIG, ...override });
    expect(codeOf(() => parseRequest(ENV, config({ cniVersion: '0.3.1' })))).toBe(1);
    expect(codeOf(() => parseRequest(ENV, config({ ipam: { type: 'host-local', subnet: '10.88.7.0/24' } })))).toBe(2);
    expect(codeOf(() => parseRequest({ ...ENV, CNI_IFNAME: 'a/b' }, config({})))).toBe(4);
    expect(codeOf(() => parseRequest({ ...ENV, CNI_NETNS: 'relative' }, config({})))).toBe(4);
    expect(codeOf(() => parseRequest(ENV, '{'))).toBe(6);
    expect(codeOf(() => parseRequest(ENV, config({ type: 'bridge' })))).toBe(7);
    expect(codeOf(() => parseRequest(ENV, config({ bridge: 'mcbr0123456789' })))).toBe(7);
    expect(codeOf(() => parseRequest(ENV, config({ bridge: 'a-very-long-bridge-name' })))).toBe(7);
    expect(codeOf(() => parseRequest(ENV, config({ ipam: { subnet: '10.88.7.0/24', gateway: '10.88.8.1' } })))).toBe(7);
    expect(codeOf(() => parseRequest(ENV, config({ runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, protocol: 'sctp' }] } })))).toBe(7);
    expect(codeOf(() => parseRequest(ENV, config({ runtimeConfig: { portMappings: [{ hostPort: 80, containerPort: 80, hostIP: '::1' }] } })))).toBe(7);
  });

  it('writes the result in the version asked for', () => {
    const request = parseRequest(ENV, JSON.stringify({ ...CONFIG, cniVersion: '0.4.0' }));
    if (request.command !== 'ADD') throw new Error('not ADD');
    const result = addResult(request.network, request.key, '/run/netns/x', '10.88.7.2', '02:6d:63:58:07:02', '02:6d:63:58:07:01', 'mk0123456789ab') as {
      ips: object[];
      interfaces: object[];
    };
    expect(result).toMatchObject({ cniVersion: '0.4.0', routes: [{ dst: '0.0.0.0/0', gw: '10.88.7.1' }] });
    expect(result.ips).toEqual([{ version: '4', address: '10.88.7.2/24', gateway: '10.88.7.1', interface: 2 }]);
    expect(result.interfaces[2]).toEqual({ name: 'eth0', mac: '02:6d:63:58:07:02', sandbox: '/run/netns/x' });
  });
});
