// -p on [::1] for containers on a dual-stack network, against the real kernel in a scratch host: minictr-proxy
// answers on [::1]:HOST_PORT for the container's busybox httpd, as nobody without capabilities, and nothing of it is
// left once the container ends (no process, nothing listening), after a kill -9 of the run and `minictr gc`
// too; a port already in use on [::1] is refused with exit 125, leaving nothing behind; a container on the default
// (IPv4) bridge gets no proxy; gc removes a published6 element whose container is gone. The proxy's data path
// alone (TCP with a half-close, UDP both ways) is checked against servers of the scratch host's own.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRoot, proxyProcesses, useScratchHost, type Result } from '../helpers/scratch-host.js';

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

const PROXY = fileURLToPath(new URL('../../native/build/Release/minictr-proxy', import.meta.url));

/**
 * Run by Node in the scratch host: a TCP server (it answers how many bytes it got, once the client half-closed) and
 * a UDP echo on [fd00:99::5], the proxy started towards them as minictr starts it (fd 3: its control socket), then
 * a TCP client sending 3 MiB and half-closing, and a UDP client, both through [::1]. Prints what they got.
 */
const DATA_PATH = `
const net = require('net'), dgram = require('dgram'), { spawn } = require('child_process');
const tcp = net.createServer((c) => { let n = 0; c.on('data', (d) => (n += d.length)); c.on('end', () => c.end('got ' + n)); });
const udp = dgram.createSocket('udp6');
udp.on('message', (m, from) => udp.send('echo ' + m, from.port, from.address));
tcp.listen(80, 'fd00:99::5', () => udp.bind(53, 'fd00:99::5', () => {
  const proxy = spawn(process.argv[1], ['65534', '65534', 'fd000099000000000000000000000005', 'tcp:8097:80', 'udp:8097:53'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  proxy.stdio[3].once('data', (ready) => {
    proxy.stdio[3].write('y');
    const client = net.connect(8097, '::1', () => { client.end(Buffer.alloc(3 << 20)); });
    let answer = '';
    client.on('data', (d) => (answer += d));
    client.on('end', () => {
      const u = dgram.createSocket('udp6');
      u.on('message', (m) => { console.log(String(ready).trim(), answer, String(m)); proxy.kill('SIGKILL'); process.exit(0); });
      u.send('ping', 8097, '::1');
    });
  });
}));
setTimeout(() => { console.log('timeout'); process.exit(1); }, 5000);
`;

/**
 * Run by Node in the scratch host: the proxy under descriptor limits of 40 to 45 (one of them leaves no descriptor
 * at all once its connections are made, whatever the proxy's own few are), 9 idle clients through [::1] each, then
 * the proxy's CPU time over half a second (an accept failing with EMFILE used to leave the listener readable and the
 * loop spinning), then, with the clients gone, one more client that must be served.
 */
const DESCRIPTOR_LIMIT = `
const net = require('net'), { spawn } = require('child_process'), { readFileSync } = require('fs');
const cpu = (pid) => { const f = readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function trial(limit) {
  const port = 8060 + limit;
  const proxy = spawn('prlimit', ['--nofile=' + limit + ':' + limit, '--', process.argv[1], '65534', '65534', 'fd000099000000000000000000000005', 'tcp:' + port + ':80'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  await new Promise((resolve) => proxy.stdio[3].once('data', resolve));
  proxy.stdio[3].write('y');
  const idle = [];
  for (let i = 0; i < 9; i++) idle.push(net.connect(port, '::1').on('error', () => {}));
  await sleep(300);
  const before = cpu(proxy.pid);
  await sleep(500);
  const spent = cpu(proxy.pid) - before;
  for (const c of idle) c.destroy();
  await sleep(200);
  const answer = await new Promise((resolve) => {
    let text = '';
    net.connect(port, '::1').on('data', (d) => (text += d)).on('end', () => resolve(text)).on('error', () => resolve('error'));
  });
  proxy.kill('SIGKILL');
  return limit + ': ' + (spent <= 5 ? 'idle' : 'spinning') + ' ' + answer;
}
const tcp = net.createServer((c) => c.end('served'));
tcp.listen(80, 'fd00:99::5', async () => {
  const results = [];
  for (let limit = 40; limit <= 45; limit++) results.push(await trial(limit));
  console.log(results.join('\\n'));
  process.exit(0);
});
setTimeout(() => { console.log('timeout'); process.exit(1); }, 20000);
`;

const PAGE = 'mkdir -p /www && echo over-loopback > /www/index.html && exec /usr/sbin/httpd -f -p 80 -h /www';

describe.skipIf(!isRoot)('-p on [::1] through minictr-proxy (needs root: skipped otherwise)', () => {
  const context = useScratchHost({ prime: true });
  const ok = async (args: string[]) => {
    const result = await context.host.minictr(args);
    expect(result.exitCode, explain(result)).toBe(0);
    return result.stdout.trim();
  };
  const curl = (url: string) => context.host.exec(['curl', '-sS', '-g', '--max-time', '3', url]);
  /** The page on [::1]:port, tried for a moment: httpd may not listen yet when the run returns. */
  const page = async (port: number) => {
    let result = await curl(`http://[::1]:${port}/`);
    for (let tries = 0; tries < 20 && result.exitCode !== 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await curl(`http://[::1]:${port}/`);
    }
    return result;
  };
  /** Sockets of the scratch host listening on `port` (TCP) or bound to it (UDP). */
  const listening = async (port: number) => (await context.host.must(['ss', '-Hlntu', `sport = :${port}`])).trim();
  /**
   * Runs `test` with the dual-stack network `six`, used once (its lease directories made, IPv6 forwarding on), and
   * then checks that the scratch host is as before, but for IPv6 forwarding, which stays on (as ip_forward does)
   * with its former value kept for reset.
   */
  const withNetwork = async (test: () => Promise<void>) => {
    const { host, before } = context;
    await ok(['network', 'create', '--ipv6', '--subnet', '10.89.41.0/24', '--subnet', 'fd00:41::/64', 'six']);
    try {
      await ok(['run', '--rm', '--network', 'six', '/bin/true']);
      await test();
    } finally {
      await host.removeAllContainers();
      await host.minictr(['network', 'rm', 'six']);
    }
    const kept = { ...before, state: [...new Set([...before.state, 'ipv6_forwarding.orig'])].sort() };
    expect(await host.settle(kept)).toEqual(kept);
  };

  it('answers on [::1] for a container on a dual-stack network, as nobody; nothing of it is left when the container ends; none on the default bridge', async () => {
    const { host } = context;
    await withNetwork(async () => {
      await ok(['run', '-d', '--rm', '--network', 'six', '--name', 'web', '-p', '8090:80', '-p', '8091:53/udp', '/bin/sh', '-c', PAGE]);
      await ok(['run', '-d', '--rm', '--name', 'web4', '-p', '8092:80', '/bin/sh', '-c', PAGE]);
      const fetched = await page(8090);
      expect(String(fetched.stdout).trim(), String(fetched.stderr)).toBe('over-loopback');
      // One proxy, the dual-stack container's, bound to [::1] only, for its TCP and UDP ports; the IPv4 one has none.
      const proxies = proxyProcesses(host.pid);
      expect(proxies).toHaveLength(1);
      const status = readFileSync(`/proc/${proxies[0]}/status`, 'utf8');
      expect(status).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
      expect(status).toMatch(/^CapEff:\t0+$/m);
      expect(status).toMatch(/^CapPrm:\t0+$/m);
      expect(status).toMatch(/^NoNewPrivs:\t1$/m);
      expect(await listening(8090)).toMatch(/^tcp +LISTEN .* \[::1\]:8090 /);
      expect(await listening(8091)).toMatch(/^udp +UNCONN .* \[::1\]:8091 /);
      expect(await listening(8092)).toBe('');
      expect((await curl('http://[::1]:8092/')).exitCode).not.toBe(0);
      await ok(['rm', '-f', 'web']);
      expect(proxyProcesses(host.pid)).toEqual([]);
      expect(await listening(8090)).toBe('');
      expect(await listening(8091)).toBe('');
    });
  }, 120_000);

  it('is ended by gc after a kill -9 of the run that started it', async () => {
    const { host } = context;
    await withNetwork(async () => {
      const crashed = await host.start(['run', '--rm', '--network', 'six', '-p', '8093:80', '/bin/sh', '-c', PAGE], { env: { MINICTR_CRASH_AT: 'running' } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      expect(proxyProcesses(host.pid)).toHaveLength(1); // the run is gone, its proxy is not
      const gc = await host.minictr(['gc']);
      expect(gc.exitCode, explain(gc)).toBe(0);
      expect(proxyProcesses(host.pid)).toEqual([]);
      expect(await listening(8093)).toBe('');
    });
  }, 120_000);

  it('refuses a port in use on [::1] with exit 125, naming it, and leaves nothing behind', async () => {
    const { host } = context;
    await withNetwork(async () => {
      const script = "require('net').createServer().listen({host:'::1',port:8094,ipv6Only:true},()=>console.log('listening'))";
      const holder = host.exec([process.execPath, '-e', script]);
      try {
        await new Promise<void>((resolve) => holder.stdout?.on('data', () => resolve()));
        const inside = await host.snapshot();
        const run = await host.minictr(['run', '--rm', '--network', 'six', '-p', '8094:80', '/bin/true']);
        expect(run.exitCode, explain(run)).toBe(125);
        expect(run.stderr).toMatch(/cannot publish port 8094\/tcp on \[::1\]: a host process is already using it there/);
        expect(await host.settle(inside)).toEqual(inside);
      } finally {
        holder.kill('SIGKILL');
        await holder;
      }
    });
  }, 120_000);

  it('gc removes a published6 element whose container is gone', async () => {
    const { host } = context;
    await withNetwork(async () => {
      const crashed = await host.start(['run', '--rm', '--network', 'six', '-p', '8095:80', '/bin/true'], { env: { MINICTR_CRASH_AT: 'ports' } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const table = (await host.must(['nft', 'list', 'tables', 'ip6'])).match(/minictr_mcbr[0-9a-f]{10}/)![0];
      // An element for a port nobody holds any more, as a container gone without its teardown would leave.
      await host.must(['nft', 'add', 'element', 'ip6', table, 'published6', '{ tcp . 8096 : fd00:41::9 . 80 }']);
      const gc = await host.minictr(['gc']);
      expect(gc.exitCode, explain(gc)).toBe(0);
      expect(await host.must(['nft', 'list', 'map', 'ip6', table, 'published6'])).not.toMatch(/8096/);
    });
  }, 120_000);

  it('carries TCP both ways with a half-close, and UDP datagrams and their answers', async () => {
    const { host } = context;
    await host.must(['ip', 'addr', 'add', 'fd00:99::5/128', 'dev', 'lo', 'nodad']);
    try {
      const result = await host.exec([process.execPath, '-e', DATA_PATH, PROXY]);
      expect(String(result.stdout).trim(), String(result.stderr)).toBe(`ready got ${3 << 20} echo ping`);
    } finally {
      await host.must(['ip', 'addr', 'del', 'fd00:99::5/128', 'dev', 'lo']);
    }
  }, 60_000);

  it('admits no more connections than its descriptor limit allows, instead of spinning on EMFILE', async () => {
    const { host } = context;
    await host.must(['ip', 'addr', 'add', 'fd00:99::5/128', 'dev', 'lo', 'nodad']);
    try {
      const result = await host.exec([process.execPath, '-e', DESCRIPTOR_LIMIT, PROXY]);
      const expected = [40, 41, 42, 43, 44, 45].map((limit) => `${limit}: idle served`).join('\n');
      expect(String(result.stdout).trim(), String(result.stderr)).toBe(expected);
    } finally {
      await host.must(['ip', 'addr', 'del', 'fd00:99::5/128', 'dev', 'lo']);
    }
  }, 60_000);
});
