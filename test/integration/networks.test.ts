// User-defined networks against the real kernel, in a scratch host with an "upstream" namespace as the internet:
// each network its own bridge, subnet and table; containers of one network reach each other and the internet,
// never the containers of another network or of the default one; an internal network reaches nothing outside;
// bad input is refused before anything exists; `network rm` is refused while in use; rm, prune and system reset
// leave the host as it was.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { httpGet, isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

/** Whether `pid` runs (a zombie does not: this machine's init may be slow to reap). */
function running(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

describe.skipIf(!isRoot)('minictr network (needs root: skipped otherwise)', () => {
  const context = useScratchHost({ prime: true });
  const ok = async (args: string[]) => {
    const result = await context.host.minictr(args);
    expect(result.exitCode, explain(result)).toBe(0);
    return result.stdout.trim();
  };
  /** Runs a detached `sleep` on `network`, named `name`; returns its address there. */
  const server = async (network: string, name: string) => {
    await ok(['run', '-d', '--rm', '--network', network, '--name', name, '/bin/sleep', '60']);
    const inspected = JSON.parse(await ok(['network', 'inspect', network])) as { Containers: Record<string, { Names: string[]; IPv4Address: string }> }[];
    const entry = Object.values(inspected[0]!.Containers).find((c) => c.Names.includes(name))!;
    return entry.IPv4Address.split('/')[0]!;
  };
  /** Whether a container on `network` gets an answer from `address` (two tries: the first may wait for ARP). */
  const reaches = async (network: string, address: string) => {
    const result = await context.host.minictr(['run', '--rm', '--network', network, '/bin/ping', '-c2', '-W1', address]);
    expect([0, 1], explain(result)).toContain(result.exitCode);
    return result.exitCode === 0;
  };

  it('refuses bad input with exit 125, naming the flag, and creates nothing', async () => {
    const { host, before } = context;
    const cases: [string[], RegExp][] = [
      [['network', 'create', 'bad/name'], /invalid network name "bad\/name"/],
      [['network', 'create', 'bridge'], /"bridge" is a built-in network/],
      [['network', 'create', '--subnet', '10.0.0.0/16', 'x1'], /invalid --subnet 10\.0\.0\.0\/16: overlaps 10\.0\.0\.0\/24 of the default network bridge/],
      [['network', 'create', '--subnet', '10.1.0.1/24', 'x3'], /invalid --subnet: invalid subnet "10\.1\.0\.1\/24": host bits set/],
      [['network', 'create', '--subnet', '10.1.0.0/24', '--gateway', '10.2.0.1', 'x4'], /invalid --gateway 10\.2\.0\.1: not a host address of 10\.1\.0\.0\/24/],
      [['network', 'create', '--gateway', '10.2.0.1', 'x5'], /--gateway needs --subnet/],
      [['run', '--rm', '--network', 'nosuch', '/bin/true'], /invalid --network "nosuch": no such network: nosuch/],
      [['run', '--rm', '--network-alias', 'db', '/bin/true'], /--network-alias needs a user-defined network/],
      [['run', '--rm', '--add-host', 'nocolon', '/bin/true'], /invalid --add-host "nocolon"/],
      [['run', '--rm', '--dns', 'resolver.example', '/bin/true'], /invalid --dns "resolver\.example": not an IPv4 address/],
      [['network', 'rm', 'nosuch'], /no such network: nosuch/],
    ];
    for (const [args, message] of cases) {
      const result = await host.minictr(args);
      expect(result.exitCode, explain(result)).toBe(args[1] === 'rm' ? 1 : 125);
      expect(result.stderr, explain(result)).toMatch(message);
    }
    expect(await host.settle(before)).toEqual(before);
  }, 120_000);

  it('isolates networks from each other and from the default network; an internal network reaches nothing outside', async () => {
    const { host, before } = context;
    const upstream = await host.addUpstream();
    const withUpstream = await host.settle(await host.snapshot());
    const routed = await host.minictr(['network', 'create', '--subnet', '203.0.113.128/25', 'x2']);
    expect(routed.exitCode, explain(routed)).toBe(125);
    expect(routed.stderr).toMatch(/invalid --subnet 203\.0\.113\.128\/25: overlaps 203\.0\.113\.0\/24 of a route of the host via upstream0/);
    await ok(['network', 'create', 'front']);
    await ok(['network', 'create', '--subnet', '172.30.5.0/24', '--gateway', '172.30.5.254', 'back']);
    await ok(['network', 'create', '--internal', 'vault']);
    const listing = await ok(['network', 'ls']);
    expect(listing).toMatch(/front +bridge +local +10\.89\.0\.0\/24/);
    expect(listing).toMatch(/back +bridge +local +172\.30\.5\.0\/24/);
    expect(listing).toMatch(/vault +bridge +local +10\.89\.1\.0\/24 \(internal\)/);
    try {
      const web = await server('front', 'web');
      const db = await server('back', 'db');
      const safe = await server('vault', 'safe');
      expect(web).toBe('10.89.0.2');
      expect(db).toBe('172.30.5.2'); // .1 is free, the gateway is .254: never leased
      const defaultServer = await ok(['run', '-d', '--rm', '--name', 'plain', '/bin/sleep', '60']);
      expect(defaultServer).toMatch(/^[0-9a-f]{64}$/);
      // Same network: reachable. Another network, or the default one: not, either way.
      expect(await reaches('front', web)).toBe(true);
      expect(await reaches('back', db)).toBe(true);
      expect(await reaches('vault', safe)).toBe(true);
      expect(await reaches('back', web)).toBe(false);
      expect(await reaches('front', db)).toBe(false);
      expect(await reaches('front', safe)).toBe(false);
      expect(await reaches('vault', web)).toBe(false);
      expect(await reaches('bridge', web)).toBe(false);
      expect(await reaches('front', '10.0.0.2')).toBe(false);
      // The gateway is each container's, the internet is reached through masquerade; not from an internal network.
      const gateway = await host.minictr(['run', '--rm', '--network', 'back', '/bin/sh', '-c', 'ip route']);
      expect(gateway.stdout).toMatch(/default via 172\.30\.5\.254 dev eth0/);
      expect(await reaches('front', upstream.address)).toBe(true);
      expect(await reaches('back', upstream.address)).toBe(true);
      expect(await reaches('vault', upstream.address)).toBe(false);
      // In use: refused, and nothing is removed (not even the unused network named with it).
      const refused = await host.minictr(['network', 'rm', 'vault', 'front']);
      expect(refused.exitCode, explain(refused)).toBe(125);
      expect(refused.stderr).toMatch(/network vault is in use by container [0-9a-f]{12}/);
      expect(await ok(['network', 'ls', '-q'])).toMatch(/^([0-9a-f]{12}\n?){3}$/);
    } finally {
      await host.removeAllContainers();
    }
    expect(await ok(['network', 'rm', 'front', 'back'])).toBe('front\nback');
    expect(await ok(['network', 'prune'])).toBe('vault');
    expect(await host.settle(withUpstream)).toEqual(withUpstream);
    expect(before.links).toEqual(withUpstream.links.filter((link) => !link.startsWith('upstream0')));
  }, 240_000);

  it('connects a running container to a second network and disconnects it', async () => {
    const { host } = context;
    const before = await host.settle(await host.snapshot());
    await ok(['network', 'create', 'left']);
    await ok(['network', 'create', 'right']);
    try {
      await server('left', 'both');
      const other = await server('right', 'peer');
      expect(await reaches('left', other)).toBe(false);
      await ok(['network', 'connect', '--alias', 'bridgehead', 'right', 'both']);
      const links = await ok(['exec', 'both', '/sbin/ip', '-o', '-4', 'addr']);
      expect(links).toMatch(/eth0 +inet 10\.89\.0\.2\/24/);
      expect(links).toMatch(/eth1 +inet 10\.89\.1\.3\/24/);
      const fromRight = await host.minictr(['run', '--rm', '--network', 'right', '/bin/ping', '-c2', '-W1', 'bridgehead']);
      expect(fromRight.stdout, explain(fromRight)).toMatch(/64 bytes from 10\.89\.1\.3/);
      const again = await host.minictr(['network', 'connect', 'right', 'both']);
      expect(again.exitCode, explain(again)).toBe(125);
      expect(again.stderr).toMatch(/container both is already on network right/);
      const primary = await host.minictr(['network', 'disconnect', 'left', 'both']);
      expect(primary.exitCode, explain(primary)).toBe(125);
      await ok(['network', 'disconnect', 'right', 'both']);
      expect(await ok(['exec', 'both', '/sbin/ip', '-o', '-4', 'addr'])).not.toMatch(/eth1/);
      const gone = await host.minictr(['run', '--rm', '--network', 'right', '/usr/bin/nslookup', 'bridgehead']);
      expect(gone.stdout, explain(gone)).not.toMatch(/Address: 10\.89\.1\.3$/m);
      // Connected again, then left to the container's teardown.
      await ok(['network', 'connect', 'right', 'both']);
    } finally {
      await host.removeAllContainers();
    }
    expect(await ok(['network', 'rm', 'left', 'right'])).toBe('left\nright');
    expect(await host.settle(before)).toEqual(before);
  }, 180_000);

  it('publishes ports of a container on a network: to the host on loopback, and through a host address to a container of another network', async () => {
    const { host } = context;
    await host.must(['ip', 'addr', 'add', '192.0.2.10/32', 'dev', 'lo']); // a host address to publish on
    const before = await host.settle(await host.snapshot());
    await ok(['network', 'create', 'pub']);
    try {
      const page = "mkdir -p /www && echo published > /www/index.html && exec /usr/sbin/httpd -f -p 80 -h /www";
      await ok(['run', '-d', '--rm', '--network', 'pub', '--name', 'site', '-p', '8081:80', '/bin/sh', '-c', page]);
      // httpd binds after the run returns: asked from inside until it answers
      for (let tries = 0; (await host.minictr(['exec', 'site', '/usr/bin/wget', '-q', '-O', '-', 'http://127.0.0.1/'])).exitCode !== 0; tries++) {
        expect(tries).toBeLessThan(20);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const fromHost = await httpGet((argv) => host.exec(argv), 'http://127.0.0.1:8081/');
      expect(fromHost.stdout.trim(), explain(fromHost)).toBe('published');
      const fromDefault = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', 'http://192.0.2.10:8081/']);
      expect(fromDefault.stdout.trim(), explain(fromDefault)).toBe('published');
    } finally {
      await host.removeAllContainers();
    }
    await ok(['network', 'rm', 'pub']);
    expect(await host.settle(before)).toEqual(before);
  }, 180_000);

  it("a killed run's DNS record goes before a run takes one of its names, and its lease before network rm", async () => {
    const { host } = context;
    const before = await host.settle(await host.snapshot());
    await ok(['network', 'create', 'dead']);
    const users = async () => Object.keys((JSON.parse(await ok(['network', 'inspect', 'dead'])) as { Containers: object }[])[0]!.Containers);
    const crash = async () => {
      const crashed = await host.start(['run', '--rm', '--network', 'dead', '--network-alias', 'db', '/bin/sh', '-c', 'sleep 5'], { env: { MINICTR_CRASH_AT: 'running' } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      expect(await users()).toHaveLength(1);
    };
    // A run sharing its alias: the dead record would answer for "db" with an address nobody answers at.
    await crash();
    await ok(['run', '--rm', '--network', 'dead', '--network-alias', 'db', '/bin/true']);
    expect(await users()).toEqual([]);
    // network rm: the dead container's lease holds the network, until a gc.
    await crash();
    expect(await ok(['network', 'rm', 'dead'])).toBe('dead');
    expect(await host.settle(before)).toEqual(before);
  }, 60_000);

  it('system reset removes every network: bridges, tables, resolvers and definitions', async () => {
    const { host } = context;
    await ok(['network', 'create', 'one']);
    await ok(['network', 'create', '--internal', 'two']);
    await ok(['run', '--rm', '--network', 'one', '/bin/true']);
    const resolvers = (JSON.parse(await ok(['network', 'inspect', 'one', 'two'])) as { Resolver: { Pid: number } }[]).map((n) => n.Resolver.Pid);
    expect(resolvers).toHaveLength(2);
    await ok(['system', 'reset']);
    const after = await host.snapshot();
    expect(after.links.filter((link) => link.startsWith('mcbr') || link.startsWith('minictr0'))).toEqual([]);
    expect(after.ruleset).toBe('');
    expect(after.data).toEqual([]);
    expect(after.state).toEqual([]);
    for (const pid of resolvers) expect(running(pid)).toBe(false);
    expect(await ok(['network', 'ls', '-q'])).toBe('');
  }, 120_000);
});
