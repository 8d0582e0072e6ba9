import { describe, expect, it } from 'vitest';
import { renderDot, renderText } from '../../src/network/render.js';
import type { NetworkView } from '../../src/network/view.js';

const view: NetworkView = {
  bridge: { name: 'minictr0', ifindex: 2, peerIfindex: null, mac: '02:6d:63:00:00:01', state: 'UP', addresses: ['10.0.0.1/24'] },
  uplinks: [{ name: 'eth0', gateway: '192.168.1.1', addresses: ['192.168.1.20/24'] }],
  containers: [
    {
      id: 'a'.repeat(64),
      name: 'web',
      pid: 4242,
      address: '10.0.0.2',
      hostVeth: { name: 'mcaaaaaaaaaaaa', ifindex: 7, peerIfindex: 2, mac: '6a:00:00:00:00:01', state: 'UP', addresses: [], hairpin: true },
      links: [
        { name: 'lo', ifindex: 1, peerIfindex: null, mac: '00:00:00:00:00:00', state: 'UNKNOWN', addresses: ['127.0.0.1/8'] },
        { name: 'eth0', ifindex: 2, peerIfindex: 7, mac: '02:6d:63:00:00:02', state: 'UP', addresses: ['10.0.0.2/24'] },
      ],
      routes: ['default via 10.0.0.1 dev eth0'],
      ports: [
        { hostIp: null, hostPort: 8080, containerPort: 80, protocol: 'tcp' },
        { hostIp: '127.0.0.1', hostPort: 6380, containerPort: 6379, protocol: 'tcp' },
      ],
    },
    { id: 'b'.repeat(64), name: null, pid: 4343, address: null, hostVeth: null, links: [], routes: [], ports: [] },
  ],
  ruleset: 'table ip minictr {\n}\n',
};

describe('minictr net rendering', () => {
  it('draws host, bridge, each veth pair matched by ifindex, routes and ports', () => {
    const text = renderText(view);
    expect(text).toContain('└── minictr0 (if 2, 02:6d:63:00:00:01, UP) 10.0.0.1/24');
    expect(text).toContain('mcaaaaaaaaaaaa (if 7, hairpin, 6a:00:00:00:00:01, UP)');
    expect(text).toContain('eth0 (if 2, 02:6d:63:00:00:02, UP) 10.0.0.2/24   in container aaaaaaaaaaaa "web", pid 4242');
    expect(text).toContain('route default via 10.0.0.1 dev eth0');
    expect(text).toContain('publish 0.0.0.0:8080/tcp -> 10.0.0.2:80');
    expect(text).toContain('container bbbbbbbbbbbb, pid 4343: not on the bridge (host network)');
    expect(text).toContain('table ip minictr {');
  });

  it('says when there is no bridge yet', () => {
    expect(renderText({ bridge: null, uplinks: [], containers: [], ruleset: null })).toContain('no bridge minictr0 yet');
  });

  it('writes a Graphviz graph: the host namespace as a box, ports by host address through the bridge, NAT to the uplink', () => {
    const dot = renderDot(view);
    expect(dot.startsWith('graph minictr {')).toBe(true);
    expect(dot).toContain('subgraph cluster_host {');
    expect(dot).toContain('bridge [label="minictr0 (bridge)\\n10.0.0.1/24"];');
    expect(dot).toContain('uplink0 [label="eth0\\n192.168.1.20/24\\ndefault via 192.168.1.1"];');
    expect(dot).toContain('nat -- uplink0 [label="masquerade"];');
    expect(dot).toContain('port0_0 [shape=oval, label="0.0.0.0:8080/tcp\\n(every host address)"];');
    expect(dot).toContain('port0_1 [shape=oval, label="127.0.0.1:6380/tcp\\n(loopback only)"];');
    expect(dot).toContain('port0_1 -- bridge [style=dashed, label="DNAT → 10.0.0.2:6379"];');
    expect(dot).toContain('label="container aaaaaaaaaaaa \\"web\\", pid 4242";');
    expect(dot).toContain('veth0 -- eth0 [label="veth pair"];');
    expect(dot).toContain('eth1 [label="lo only"];');
    expect(dot.trimEnd().endsWith('}')).toBe(true);
  });
});
