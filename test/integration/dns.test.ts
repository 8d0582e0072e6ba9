// Name resolution on user-defined networks against the real kernel: the network's resolver answers container
// names, --hostname and --network-alias from every container on the network, follows containers as they come and
// go, keeps other networks out, and forwards other names to the host's resolvers (a server the test starts on the
// scratch host's loopback, named by a resolv.conf bind-mounted over the scratch host's /etc/resolv.conf) or to a
// container's --dns. --dns, --dns-search and --add-host shape /etc/resolv.conf and /etc/hosts on every network.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, ScratchHost, type Result, type Snapshot } from '../helpers/scratch-host.js';

const MESSAGE = fileURLToPath(new URL('../../dist/network/dns/message.js', import.meta.url));
const SERVER = fileURLToPath(new URL('../../dist/network/dns/server.js', import.meta.url));

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** A DNS server on `address`:53 answering `upstream.test` with `answer`, every other name NXDOMAIN. */
function upstreamServer(address: string, answer: string): string {
  return `
    const m = await import(${JSON.stringify(MESSAGE)});
    const socket = (await import('node:dgram')).createSocket('udp4');
    socket.on('message', (bytes, from) => {
      const query = m.parseQuery(bytes);
      const known = query.question.name === 'upstream.test' && query.question.type === m.TYPE_A;
      const reply = m.encodeResponse(bytes, query, known ? m.RCODE_NOERROR : m.RCODE_NXDOMAIN, known ? [{ type: m.TYPE_A, address: ${JSON.stringify(answer)}, ttl: 1 }] : []);
      socket.send(reply, from.port, from.address);
    });
    socket.bind(53, ${JSON.stringify(address)}, () => console.log('listening'));`;
}

describe.skipIf(!isRoot)('DNS on user-defined networks (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;
  let dir: string;
  const servers: ResultPromise[] = [];

  const ok = async (args: string[]) => {
    const result = await host.minictr(args);
    expect(result.exitCode, explain(result)).toBe(0);
    return result.stdout;
  };
  const lookup = (network: string, name: string, extra: string[] = []) =>
    host.minictr(['run', '--rm', '--network', network, ...extra, '/usr/bin/nslookup', name]);

  beforeAll(async () => {
    host = await ScratchHost.create();
    dir = mkdtempSync(join(tmpdir(), 'minictr-dns-'));
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
    await host.must(['mount', '--bind', join(dir, 'resolv.conf'), '/etc/resolv.conf']);
    await host.must(['ip', 'addr', 'add', '127.0.0.2/8', 'dev', 'lo']);
    for (const [address, answer] of [['127.0.0.1', '198.51.100.7'], ['127.0.0.2', '198.51.100.8']] as const) {
      const server = host.exec([process.execPath, '--input-type=module', '-e', upstreamServer(address, answer)]);
      servers.push(server);
      await new Promise<void>((resolve) => server.stdout?.on('data', (d: Buffer) => d.toString().includes('listening') && resolve()));
    }
    expect((await host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  }, 60_000);

  afterAll(async () => {
    await host?.dispose();
    await Promise.allSettled(servers);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('resolves names, hostnames and aliases on the network, follows containers, forwards the rest', async () => {
    await ok(['network', 'create', 'app']);
    await ok(['network', 'create', 'other']);
    try {
      await ok(['run', '-d', '--rm', '--network', 'app', '--name', 'web', '--hostname', 'webhost', '--network-alias', 'www', '/bin/sleep', '60']);
      for (const name of ['web', 'webhost', 'www', 'WEB']) {
        const found = await lookup('app', name);
        expect(found.exitCode, explain(found)).toBe(0);
        expect(found.stdout, explain(found)).toMatch(/Address: 10\.89\.0\.2$/m);
      }
      const ping = await host.minictr(['run', '--rm', '--network', 'app', '/bin/ping', '-c1', '-W2', 'www']);
      expect(ping.stdout, explain(ping)).toMatch(/64 bytes from 10\.89\.0\.2/);
      // Other names: forwarded to the host's resolver, or to the container's --dns.
      const forwarded = await lookup('app', 'upstream.test');
      expect(forwarded.stdout, explain(forwarded)).toMatch(/Address: 198\.51\.100\.7$/m);
      const own = await lookup('app', 'upstream.test', ['--dns', '127.0.0.2']);
      expect(own.stdout, explain(own)).toMatch(/Address: 198\.51\.100\.8$/m);
      // Another network's containers learn nothing: neither from their resolver nor from this network's.
      expect((await lookup('other', 'web')).stdout).not.toMatch(/10\.89\.0\.2/);
      const asked = await host.minictr(['run', '--rm', '--network', 'other', '/usr/bin/nslookup', 'web', '10.89.0.1']);
      expect(asked.stdout, explain(asked)).not.toMatch(/Address: 10\.89\.0\.2/);
      // The record goes with the container, and a new one is found at once.
      await ok(['rm', '-f', 'web']);
      expect((await lookup('app', 'web')).stdout).not.toMatch(/10\.89\.0\.2/);
      await ok(['run', '-d', '--rm', '--network', 'app', '--name', 'web2', '/bin/sleep', '60']);
      expect((await lookup('app', 'web2')).stdout).toMatch(/Address: 10\.89\.0\.2$/m);
      const inspected = JSON.parse(await ok(['network', 'inspect', 'app'])) as { Resolver: { Address: string; Pid: number; RssKiB: number; PssKiB: number } }[];
      expect(inspected[0]!.Resolver.Address).toBe('10.89.0.1:53');
      // It parses what containers send, as nobody, with no capability and no group (and it still reads the records).
      const status = readFileSync(`/proc/${inspected[0]!.Resolver.Pid}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^Gid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^Groups:\s*$/m);
      expect(status).toMatch(/^CapPrm:\t0{16}$/m);
      expect(status).toMatch(/^CapEff:\t0{16}$/m);
      expect(inspected[0]!.Resolver.PssKiB).toBeGreaterThan(0);
      expect(inspected[0]!.Resolver.RssKiB).toBeGreaterThan(inspected[0]!.Resolver.PssKiB);
    } finally {
      await host.removeAllContainers();
      await host.minictr(['network', 'rm', '-f', 'app', 'other']);
    }
    expect(await host.settle(before)).toEqual(before);
  }, 240_000);

  it('survives a burst of queries to forward to an upstream that never answers (the resolver once ran out of heap)', async () => {
    // The resolver process alone (as ensureResolver starts it), on an address of its own, its state a temporary
    // directory: what matters is what it does with a burst from a client of its subnet.
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.3\n'); // nothing listens there: every forward waits
    const state = mkdtempSync(join(tmpdir(), 'minictr-resolver-'));
    await host.must(['ip', 'addr', 'add', '10.99.0.1/24', 'dev', 'lo']);
    const resolver = host.exec([process.execPath, '--max-old-space-size=16', '--max-semi-space-size=1', '--v8-pool-size=1', SERVER, state, '10.99.0.1', '10.99.0.0/24']);
    try {
      await new Promise<void>((resolve) => resolver.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
      const flood = `
        const m = await import(${JSON.stringify(MESSAGE)});
        const socket = (await import('node:dgram')).createSocket('udp4');
        await new Promise((resolve) => socket.bind(0, '10.99.0.1', resolve));
        for (let i = 0; i < 60000; i++) {
          socket.send(m.encodeQuery(i & 0xffff, 'x' + i + '.flood.test', m.TYPE_A), 53, '10.99.0.1');
          if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        setTimeout(() => socket.close(), 500);`;
      expect((await host.exec([process.execPath, '--input-type=module', '-e', flood])).exitCode).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(resolver.exitCode).toBeNull(); // still running
    } finally {
      resolver.kill('SIGTERM');
      await resolver;
      writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
      await host.must(['ip', 'addr', 'del', '10.99.0.1/24', 'dev', 'lo']);
      rmSync(state, { recursive: true, force: true });
    }
    expect(resolver.exitCode).toBe(0); // its SIGTERM handler's, not V8's abort
  }, 120_000);

  it('writes --dns, --dns-search and --add-host into resolv.conf and hosts, on the default network and a user one', async () => {
    const files = ['/bin/cat', '/etc/resolv.conf', '/etc/hosts'];
    const flags = ['--dns', '192.0.2.1', '--dns-search', 'corp.test', '--add-host', 'db:10.1.2.3', '--add-host', 'gw:host-gateway'];
    const plain = await ok(['run', '--rm', ...flags, ...files]);
    expect(plain).toMatch(/^search corp\.test$/m);
    expect(plain).toMatch(/^nameserver 192\.0\.2\.1$/m);
    expect(plain).not.toMatch(/nameserver 127\./);
    expect(plain).toMatch(/^10\.1\.2\.3\tdb$/m);
    expect(plain).toMatch(/^10\.0\.0\.1\tgw$/m);
    await ok(['network', 'create', 'app']);
    const user = await ok(['run', '--rm', '--network', 'app', ...flags, ...files]);
    expect(user).toMatch(/^nameserver 10\.89\.0\.1$/m); // the network's resolver, which forwards to 192.0.2.1
    expect(user).not.toMatch(/nameserver 192\.0\.2\.1/);
    expect(user).toMatch(/^search corp\.test$/m);
    expect(user).toMatch(/^10\.89\.0\.1\tgw$/m);
    await ok(['network', 'rm', 'app']);
    expect(await host.settle(before)).toEqual(before);
  }, 120_000);
});
