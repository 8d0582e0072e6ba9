// Published ports against the real kernel, from every client a Docker user would try: another host (a peer
// namespace on a LAN link), the host itself on 127.0.0.1, localhost and its other addresses, a container through
// the host's address (hairpin), a container to its own published port; tcp and udp; host IPs and ranges; conflicts
// refused before anything is created; map elements gone after every way of ending; rules that do not grow.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  containerPidOf,
  httpGet,
  isRoot,
  ScratchHost,
  startClientAddressServer,
  type Peer,
  type Result,
  type Snapshot,
} from '../helpers/scratch-host.js';

const PAGE = 'Hello from a minictr container';

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

function waitForOutput(run: ResultPromise, text: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    run.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes(text)) resolve();
    });
    void run.then((r) => reject(new Error(`run ended before "${text}": ${explain(r as unknown as Result)}`)));
  });
}

describe.skipIf(!isRoot)('minictr run -p (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let lan: Peer;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    lan = await host.addPeer('lan0', '198.51.100.1/24', '198.51.100.2/24');
    expect((await host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  });

  afterAll(async () => {
    await host?.dispose();
  });

  const fromHost = (url: string) => httpGet((argv) => host.exec(argv), url);
  const fromLan = (url: string) => httpGet((argv) => lan.exec(argv), url);

  /**
   * Starts a container serving the demo page with httpd on the given ports, until its stdin closes. The run is
   * wrapped in an object: an async function returning the run itself would wait for it (a run is a thenable).
   */
  async function serve(args: string[], ports = [80]): Promise<{ run: ResultPromise }> {
    const httpds = ports.map((port) => `httpd -p ${port} -h /www`).join(' && ');
    const run = host.start(['run', '--rm', ...args, '/bin/sh', '-c', `${httpds} && echo ready && read line`], { stdin: 'pipe' });
    await waitForOutput(run, 'ready');
    return { run };
  }

  async function stop({ run }: { run: ResultPromise }): Promise<void> {
    run.stdin?.end('done\n');
    const result = await run;
    expect(result.exitCode, String(result.stderr)).toBe(0);
  }

  it('serves a published port to another host, the host itself and containers, through DNAT', async () => {
    const server = await serve(['-p', '8080:80', '--ip', '10.0.0.20']);
    for (const url of ['http://127.0.0.1:8080/', 'http://localhost:8080/', 'http://10.0.0.1:8080/', 'http://198.51.100.1:8080/']) {
      const result = await fromHost(url);
      expect(result.stdout, `${url}\n${explain(result)}`).toContain(PAGE);
    }
    const remote = await fromLan('http://198.51.100.1:8080/');
    expect(remote.stdout, explain(remote)).toContain(PAGE);
    for (const url of ['http://10.0.0.1:8080/', 'http://198.51.100.1:8080/']) {
      const hairpin = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', url]);
      expect(hairpin.stdout, `${url}\n${explain(hairpin)}`).toContain(PAGE);
    }
    await stop(server);
    await expect.poll(async () => (await fromHost('http://127.0.0.1:8080/')).exitCode).not.toBe(0);
    expect(await host.settle(before)).toEqual(before);
  });

  it('lets a container reach its own published port', async () => {
    const result = await host.minictr([
      'run', '--rm', '-p', '8081:80', '/bin/sh', '-c', 'httpd -p 80 -h /www && wget -q -O - http://10.0.0.1:8081/',
    ]);
    expect(result.stdout, explain(result)).toContain(PAGE);
    expect(await host.settle(before)).toEqual(before);
  });

  it('serves hairpin and direct container-to-container traffic with and without br_netfilter calling the ip hooks for bridged frames', async () => {
    const sysctl = '/proc/sys/net/bridge/bridge-nf-call-iptables';
    const original = (await host.exec(['cat', sysctl])).stdout;
    const modes = original === '' ? ['(br_netfilter not loaded)'] : ['0', '1'];
    try {
      for (const mode of modes) {
        if (original !== '') await host.must(['sh', '-c', `echo ${mode} > ${sysctl}`]);
        const server = await serve(['--ip', '10.0.0.40', '-p', '8085:80']);
        const other = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', 'http://10.0.0.1:8085/']);
        expect(other.stdout, `bridge-nf-call-iptables=${mode}\n${explain(other)}`).toContain(PAGE);
        // Straight to the other container (untracked: the guard chain's notrack rule), as well.
        const direct = await host.minictr(['run', '--rm', '/usr/bin/wget', '-q', '-O', '-', 'http://10.0.0.40/']);
        expect(direct.stdout, `bridge-nf-call-iptables=${mode}\n${explain(direct)}`).toContain(PAGE);
        await stop(server);
        const self = await host.minictr(['run', '--rm', '-p', '8085:80', '/bin/sh', '-c', 'httpd -p 80 -h /www && wget -q -O - http://10.0.0.1:8085/']);
        expect(self.stdout, `bridge-nf-call-iptables=${mode}\n${explain(self)}`).toContain(PAGE);
      }
    } finally {
      if (original !== '') await host.must(['sh', '-c', `echo ${String(original).trim()} > ${sysctl}`]);
    }
    expect(await host.settle(before)).toEqual(before);
  });

  it('forwards a LAN host only to published ports, never straight to a container', async () => {
    await lan.must(['ip', 'route', 'add', '10.0.0.0/24', 'via', '198.51.100.1']);
    try {
      const server = await serve(['--ip', '10.0.0.30', '-p', '8086:80']);
      expect((await fromHost('http://10.0.0.30/')).stdout).toContain(PAGE);
      expect((await fromLan('http://198.51.100.1:8086/')).stdout).toContain(PAGE);
      const direct = await fromLan('http://10.0.0.30/');
      expect(direct.exitCode, explain(direct)).not.toBe(0);
      await stop(server);
    } finally {
      await lan.must(['ip', 'route', 'del', '10.0.0.0/24']);
    }
    expect(await host.settle(before)).toEqual(before);
  });

  it("keeps the host's loopback services out of containers' reach despite route_localnet, even after nft flush ruleset", async () => {
    // A root container can send to 127.0.0.1 through the gateway (CVE-2020-8558's pattern). The guard chain and the
    // eBPF guard on its veth's clsact ingress each drop that; `nft flush ruleset` removes only the first. The control
    // run, with both gone, proves the attack itself works.
    const { server: secret } = await startClientAddressServer((argv) => host.exec(argv), '127.0.0.1', 9999);
    const attack = [
      'echo 1 > /proc/sys/net/ipv4/conf/eth0/route_localnet',
      'ip addr del 127.0.0.1/8 dev lo',
      'ip route add 127.0.0.0/8 via 10.0.0.1 dev eth0',
      'echo ready',
      'read line',
      'wget -q -O - http://127.0.0.1:9999/ & sleep 1; kill $! 2>/dev/null; echo end',
    ].join('; ');
    const sysctl = '/proc/sys/net/bridge/bridge-nf-call-iptables';
    const original = String((await host.exec(['cat', sysctl])).stdout).trim();
    type Removed = 'nothing' | 'ruleset' | 'ruleset and eBPF guard';
    const cases: [string, Removed][] = [['0', 'nothing'], ['1', 'nothing'], ['0', 'ruleset'], ['1', 'ruleset'], ['1', 'ruleset and eBPF guard']];
    try {
      for (const [mode, removed] of cases) {
        if (original !== '') await host.must(['sh', '-c', `echo ${mode} > ${sysctl}`]);
        // The attacker needs NET_ADMIN and a writable /proc/sys: the default profile alone already stops it.
        const run = host.start(['run', '--rm', '--privileged', '/bin/sh', '-c', attack], { stdin: 'pipe' });
        await waitForOutput(run, 'ready');
        if (removed !== 'nothing') await host.must(['nft', 'flush', 'ruleset']);
        if (removed === 'ruleset and eBPF guard') await host.detachVethFilters();
        run.stdin?.end('go\n');
        const output = String((await run).stdout);
        // The server answers with the client's address: any answer means the container got through.
        if (removed === 'ruleset and eBPF guard') expect(output, 'control run without either guard').toMatch(/^ready\n10\.0\.0\.\d+end$/);
        else expect(output, `bridge-nf-call-iptables=${mode}, removed: ${removed}`).toBe('ready\nend');
      }
    } finally {
      if (original !== '') await host.must(['sh', '-c', `echo ${original} > ${sysctl}`]);
      secret.kill();
      await secret;
    }
    // The next run puts both guards back, and loopback clients of a published port still get through.
    const server = await serve(['-p', '127.0.0.1:8085:80']);
    const page = await fromHost('http://127.0.0.1:8085/');
    expect(page.stdout, explain(page)).toContain(PAGE);
    await stop(server);
    expect(await host.settle(before)).toEqual(before);
  });

  it('keeps the address of a remote client: only loopback and hairpin traffic is masqueraded', async () => {
    // The container answers each connection with its own view of it (netstat): the peer address it sees.
    const run = host.start(['run', '--rm', '-p', '8082:8082', '/bin/sh', '-c', 'echo ready; nc -l -p 8082 -e netstat -tn']);
    await waitForOutput(run, 'ready');
    const busybox = fileURLToPath(new URL('../../rootfs/image/bin/busybox', import.meta.url));
    let seen = '';
    for (let i = 0; i < 30 && !seen.includes('8082'); i++) {
      seen = String((await lan.exec([busybox, 'nc', '198.51.100.1', '8082'], { input: '' })).stdout);
    }
    expect(seen).toMatch(/10\.0\.0\.\d+:8082\s+(::ffff:)?198\.51\.100\.2:\d+/);
    expect((await run).exitCode).toBe(0);
    expect(await host.settle(before)).toEqual(before);
  });

  it('publishes udp, for the host and for another host', async () => {
    // busybox's nc has no UDP mode: a static echo server is built into a copy of the rootfs for this test.
    const rootfs = mkdtempSync(join(tmpdir(), 'minictr-udp-'));
    try {
      cpSync(fileURLToPath(new URL('../../rootfs/image', import.meta.url)), rootfs, { recursive: true, verbatimSymlinks: true });
      await execa('cc', ['-static', '-O2', '-o', join(rootfs, 'bin/udp-echo'), fileURLToPath(new URL('../fixtures/udp-echo.c', import.meta.url))]);
      const run = host.start(['run', '--rm', '--rootfs', rootfs, '-p', '9053:53/udp', '/bin/sh', '-c', "trap 'exit 0' TERM; udp-echo 53 & wait"]);
      await waitForOutput(run, 'listening');
      const echo = (exec: (argv: string[]) => ResultPromise, address: string) =>
        exec([
          process.execPath,
          '-e',
          "const s=require('dgram').createSocket('udp4');" +
            "s.on('message',(m)=>{process.stdout.write(String(m));process.exit(0)});" +
            `const t=setInterval(()=>s.send('udp-hello',9053,'${address}'),100);` +
            "setTimeout(()=>process.exit(1),3000)",
        ]);
      expect(String((await echo((argv) => host.exec(argv), '127.0.0.1')).stdout)).toBe('udp-hello');
      expect(String((await echo((argv) => lan.exec(argv), '198.51.100.1')).stdout)).toBe('udp-hello');
      run.kill('SIGTERM');
      expect((await run).exitCode).toBe(0);
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
    expect(await host.settle(before)).toEqual(before);
  });

  it('publishes several flags, a host IP and a range', async () => {
    const server = await serve(['-p', '127.0.0.1:8083:80', '-p', '8000-8002:8000-8002', '-p', '8084:8000'], [80, 8000, 8001, 8002]);
    for (const url of ['http://127.0.0.1:8083/', 'http://127.0.0.1:8000/', 'http://127.0.0.1:8001/', 'http://198.51.100.1:8002/', 'http://127.0.0.1:8084/']) {
      const result = await fromHost(url);
      expect(result.stdout, `${url}\n${explain(result)}`).toContain(PAGE);
    }
    // Published on 127.0.0.1 only: the LAN address does not forward it.
    expect((await fromLan('http://198.51.100.1:8083/')).exitCode).not.toBe(0);
    await stop(server);
    expect(await host.settle(before)).toEqual(before);
  });

  it('adds map elements, never rules, as containers publish ports', async () => {
    const rules = async () => {
      const text = await host.must(['nft', 'list', 'table', 'ip', 'minictr']);
      const chains = text.slice(text.indexOf('chain '));
      return chains.split('\n').filter((line) => /^\t\t(?!type )\S/.test(line)).length;
    };
    const idle = await rules();
    const servers = [];
    for (const port of [8091, 8092, 8093]) servers.push(await serve(['-p', `${port}:80`]));
    expect(await rules()).toBe(idle);
    const elements = await host.must(['nft', 'list', 'map', 'ip', 'minictr', 'published_any']);
    expect(elements.match(/tcp \. 809[123] : 10\.0\.0\.\d+ \. 80/g)).toHaveLength(3);
    for (const server of servers) await stop(server);
    expect(await host.settle(before)).toEqual(before);
  });

  it("replaces an older minictr's maps without timeouts, keeping a running container's element", async () => {
    const server = await serve(['-p', '8097:80', '--ip', '10.0.0.21']);
    // The table as an older minictr left it: its maps had no `flags timeout` (which teardown's expiry needs), and
    // declaring them anew fails while they exist. Any change of the ruleset also moves its generation.
    const maps = {
      published_any: 'type inet_proto . inet_service : ipv4_addr . inet_service;',
      published_addr: 'type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service;',
    };
    const chains = ['prerouting', 'output', 'postrouting', 'forward', 'guard'];
    const older = [
      ...chains.map((chain) => `flush chain ip minictr ${chain}`),
      ...Object.entries(maps).flatMap(([map, type]) => [`delete map ip minictr ${map}`, `add map ip minictr ${map} { ${type} }`]),
      'add element ip minictr published_any { tcp . 8097 : 10.0.0.21 . 80 }',
    ];
    await host.must(['nft', older.join('; ')]);
    const result = await host.minictr(['run', '--rm', '-p', '8098:80', '/bin/true']);
    expect(result.exitCode, explain(result)).toBe(0);
    const listing = await host.must(['nft', 'list', 'map', 'ip', 'minictr', 'published_any']);
    expect(listing).toContain('flags timeout');
    expect(listing).toContain('tcp . 8097 : 10.0.0.21 . 80');
    const page = await fromHost('http://127.0.0.1:8097/');
    expect(page.stdout, explain(page)).toContain(PAGE);
    await stop(server);
    expect(await host.settle(before)).toEqual(before);
  });

  it('removes the elements after every way of ending', async () => {
    const published = async () => (await host.must(['nft', 'list', 'map', 'ip', 'minictr', 'published_any'])).includes('8095');
    // A failure after the ports were set up: the child cannot enter its working directory.
    const failed = await host.minictr(['run', '--rm', '-p', '8095:80', '-w', '/etc/passwd/x', '/bin/true']);
    expect(failed.exitCode, explain(failed)).toBe(125);
    expect(failed.stderr).toMatch(/enter working directory \/etc\/passwd\/x in container: Not a directory/);
    expect(await published()).toBe(false);

    // A signal forwarded to PID 1; SIGKILL of the container's process; SIGKILL of minictr, then gc.
    for (const end of ['signal', 'kill container', 'kill minictr'] as const) {
      const run = host.start(['run', '--rm', '-p', '8095:80', '/bin/sh', '-c', "trap 'exit 3' TERM; echo ready; while :; do sleep 0.05; done"]);
      await waitForOutput(run, 'ready');
      expect(await published()).toBe(true);
      if (end === 'signal') run.kill('SIGTERM');
      if (end === 'kill container') process.kill(await containerPidOf(run.pid!), 'SIGKILL');
      if (end === 'kill minictr') run.kill('SIGKILL');
      await run;
      if (end === 'kill minictr') {
        expect(await published()).toBe(true);
        expect((await host.minictr(['gc'])).exitCode).toBe(0);
      }
      expect(await published(), end).toBe(false);
      expect(await host.settle(before)).toEqual(before);
    }
  });

  describe('refuses conflicts and bad specs before creating anything', () => {
    const cases: [string, string[], RegExp][] = [
      ['a malformed spec', ['-p', '1:2:3:4'], /expected \[HOST_IP:\]\[HOST_PORT:\]CONTAINER_PORT/],
      ['port 0', ['-p', '0:80'], /host port 0 is not in 1-65535/],
      ['a port above 65535', ['-p', '8080:65536'], /container port 65536 is not in 1-65535/],
      ['an unknown protocol', ['-p', '8080:80/sctp'], /protocol must be tcp or udp/],
      ['ranges of different lengths', ['-p', '8000-8002:80-81'], /differ in length/],
      ['the same host port twice', ['-p', '8080:80', '-p', '8080:81'], /published twice/],
      ['a host IP that is not of this host', ['-p', '192.0.2.77:8080:80'], /192\.0\.2\.77: it is not an address of this host/],
      ['--network none', ['--network', 'none', '-p', '8080:80'], /--publish needs --network bridge/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const result = await host.minictr(['run', '--rm', ...args, '/bin/true']);
        expect(result.exitCode, explain(result)).toBe(125);
        expect(result.stderr).toMatch(message);
        expect(await host.snapshot()).toEqual(before);
      });
    }

    it('a host port bound by a host process', async () => {
      const { server: listener } = await startClientAddressServer((argv) => host.exec(argv), '0.0.0.0', 8096);
      const listening = await host.snapshot();
      const result = await host.minictr(['run', '--rm', '-p', '8096:80', '/bin/true']);
      expect(result.exitCode, explain(result)).toBe(125);
      expect(result.stderr).toMatch(/cannot publish port 8096\/tcp: a host process is already using it/);
      expect(await host.snapshot()).toEqual(listening);
      listener.kill();
      await listener;
    });

    it('a host port held by a dual-stack IPv6 listener or a bound udp socket; a listener on another address is no conflict', async () => {
      const holder = host.exec([
        process.execPath,
        '-e',
        "require('dgram').createSocket('udp4').bind(8094,()=>require('net').createServer()" +
          ".listen(8093,'::',()=>require('net').createServer().listen(8092,'127.0.0.1',()=>console.log('listening'))))",
      ]);
      await new Promise<void>((resolve) => holder.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve()));
      const held = await host.snapshot();
      for (const [flag, message] of [
        ['8093:80', /cannot publish port 8093\/tcp: a host process is already using it/],
        ['8094:53/udp', /cannot publish port 8094\/udp: a host process is already using it/],
      ] as const) {
        const result = await host.minictr(['run', '--rm', '-p', flag, '/bin/true']);
        expect(result.exitCode, explain(result)).toBe(125);
        expect(result.stderr).toMatch(message);
        expect(await host.snapshot()).toEqual(held);
      }
      // DNAT on 198.51.100.1 (the host's address towards the "internet") takes nothing from a loopback listener.
      const other = await host.minictr(['run', '--rm', '-p', '198.51.100.1:8092:80', '/bin/true']);
      expect(other.exitCode, explain(other)).toBe(0);
      holder.kill();
      await holder;
    });

    it('a host port published by a running container', async () => {
      const server = await serve(['-p', '8097:80']);
      const running = await host.snapshot();
      const result = await host.minictr(['run', '--rm', '-p', '8097:80', '/bin/true']);
      expect(result.exitCode, explain(result)).toBe(125);
      expect(result.stderr).toMatch(/port 8097\/tcp is already published by container [0-9a-f]{12}/);
      expect(await host.snapshot()).toEqual(running);
      await stop(server);
      expect(await host.settle(before)).toEqual(before);
    });

    it('a host port found bound while a container publishes it: the container is named, not a host process', async () => {
      // Another minictr run checking the same port binds it for a moment, as this listener does: a port found bound
      // is blamed on the container the registry says holds it before a host process is.
      const server = await serve(['-p', '8098:80']);
      const { server: listener } = await startClientAddressServer((argv) => host.exec(argv), '0.0.0.0', 8098);
      const busy = await host.snapshot();
      const result = await host.minictr(['run', '--rm', '-p', '8098:80', '/bin/true']);
      expect(result.exitCode, explain(result)).toBe(125);
      expect(result.stderr).toMatch(/^minictr: port 8098\/tcp is already published by container [0-9a-f]{12}$/);
      expect(await host.snapshot()).toEqual(busy);
      listener.kill();
      await listener;
      await stop(server);
      expect(await host.settle(before)).toEqual(before);
    });
  });
});
