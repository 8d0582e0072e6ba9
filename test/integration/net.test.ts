// `minictr net` against two running containers: every object is listed, veth ends pair up by ifindex across the
// namespaces, and the graph names both containers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { CLI, isRoot, ScratchHost } from '../helpers/scratch-host.js';
import type { NetworkView } from '../../src/network/view.js';

describe.skipIf(!isRoot)('minictr net (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  const runs: ResultPromise[] = [];

  beforeAll(async () => {
    host = await ScratchHost.create();
    for (const args of [['--name', 'web', '--ip', '10.0.0.5', '-p', '8080:80'], ['--ip', '10.0.0.6']]) {
      const run = host.start(['run', '--rm', ...args, '/bin/sh', '-c', 'echo ready; read line'], { stdin: 'pipe' });
      await new Promise<void>((resolve) => run.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      runs.push(run);
    }
  });

  afterAll(async () => {
    for (const run of runs) run.stdin?.end('done\n');
    await Promise.all(runs);
    await host?.dispose();
  });

  it('reports the bridge, both veth pairs matched by ifindex, addresses, routes and ports as JSON', async () => {
    const result = await host.minictr(['net', '--format', 'json']);
    expect(result.exitCode, result.stderr).toBe(0);
    const view = JSON.parse(result.stdout) as NetworkView;
    expect(view.bridge?.addresses).toEqual(['10.0.0.1/24']);
    expect(view.containers.map((c) => c.address).sort()).toEqual(['10.0.0.5', '10.0.0.6']);
    for (const container of view.containers) {
      const eth0 = container.links.find((l) => l.name === 'eth0')!;
      expect(container.hostVeth?.name).toMatch(/^mc[0-9a-f]{12}$/);
      expect(container.hostVeth?.peerIfindex).toBe(eth0.ifindex);
      expect(eth0.peerIfindex).toBe(container.hostVeth?.ifindex);
      expect(eth0.addresses).toEqual([`${container.address}/24`]);
      expect(container.routes).toContain('default via 10.0.0.1 dev eth0');
    }
    expect(view.containers.find((c) => c.name === 'web')?.ports).toEqual([
      { hostIp: null, hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    ]);
    expect(view.ruleset).toContain('tcp . 8080 : 10.0.0.5 . 80');
  });

  it('draws them as text and as a Graphviz graph', async () => {
    const text = await host.minictr(['net']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/└── minictr0 \(if \d+, 02:6d:63:00:00:01, UP\) 10\.0\.0\.1\/24/);
    expect(text.stdout).toMatch(/eth0 \(if \d+, 02:6d:63:00:00:05, UP\) 10\.0\.0\.5\/24 +in container [0-9a-f]{12} "web"/);
    expect(text.stdout).toMatch(/eth0 \(if \d+, 02:6d:63:00:00:06, UP\) 10\.0\.0\.6\/24/);
    const dot = await host.minictr(['net', '--format', 'dot']);
    expect(dot.stdout).toMatch(/^graph minictr \{/);
    expect(dot.stdout).toContain('subgraph cluster_host {');
    expect(dot.stdout.match(/subgraph cluster_\d+/g)).toHaveLength(2);
    expect(dot.stdout).toContain('label="0.0.0.0:8080/tcp\\n(every host address)"');
    expect(dot.stdout).toContain('label="DNAT → 10.0.0.5:80"');
    expect(dot.stdout).toContain('nftables: ip minictr\\nmasquerade 10.0.0.0/24');
  });

  it("draws the graph as SVG with Graphviz's dot, and says what is missing without it", async () => {
    const svg = await host.minictr(['net', '--format', 'svg']);
    expect(svg.exitCode, svg.stderr).toBe(0);
    expect(svg.stdout).toMatch(/<svg [^>]*>/);
    expect(svg.stdout).toContain('10.0.0.5:80');
    const withoutDot = await host.exec(['env', 'PATH=/nonexistent', process.execPath, CLI, 'net', '--format', 'svg']);
    expect(withoutDot.exitCode).toBe(125);
    expect(String(withoutDot.stderr)).toMatch(/--format svg needs Graphviz's dot, which is not installed \(apt-get install graphviz\)/);
  });

  it('rejects an unknown format', async () => {
    const result = await host.minictr(['net', '--format', 'png']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(/argument .png. is invalid/);
  });
});
