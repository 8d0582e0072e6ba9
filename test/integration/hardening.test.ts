// Escapes the default profile closes beyond capabilities and masked paths, each tried for real by a static probe
// (test/fixtures/probe.c) built into a copy of the rootfs: the seccomp rules that follow Docker's profile
// (io_uring, AF_VSOCK, personality), terminal input injection (TIOCSTI) into the caller's terminal, and IPv6
// router advertisements sent by a container to the host and to other containers, and frames sent with another
// container's IPv4 or MAC address.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('hardening of the default profile (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let rootfs = '';
  beforeAll(async () => {
    rootfs = mkdtempSync(join(tmpdir(), 'minictr-probe-'));
    cpSync(fileURLToPath(new URL('../../rootfs/image', import.meta.url)), rootfs, { recursive: true, verbatimSymlinks: true });
    await execa('cc', ['-static', '-O2', '-o', join(rootfs, 'bin/probe'), fileURLToPath(new URL('../fixtures/probe.c', import.meta.url))]);
  });
  afterAll(() => rmSync(rootfs, { recursive: true, force: true }));
  const probe = (args: string[], ...probeArgs: string[]) =>
    scratch.host.minictr(['run', '--rm', '--rootfs', rootfs, ...args, '/bin/probe', ...probeArgs]);

  it("refuses io_uring, AF_VSOCK sockets and personalities beyond Docker's, unless --privileged", async () => {
    const refused = 'Operation not permitted';
    expect((await probe([], 'io_uring')).stdout).toBe(`io_uring: ${refused}`);
    expect((await probe([], 'vsock')).stdout).toBe(`vsock: ${refused}`);
    expect((await probe([], 'personality', '0040000')).stdout).toBe(`personality: ${refused}`); // ADDR_NO_RANDOMIZE
    expect((await probe([], 'personality', '0')).stdout).toBe('personality: ok');
    expect((await probe(['--privileged'], 'io_uring')).stdout).toBe('io_uring: ok');
    expect((await probe(['--privileged'], 'personality', '0040000')).stdout).toBe('personality: ok');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("cannot type into the caller's terminal (TIOCSTI), even with CAP_SYS_ADMIN", async () => {
    // minictr runs with a pseudo-terminal as its controlling terminal and fds 0-2, as in a user's shell, and
    // without -t the container's fds 0-2 are that terminal. Its own session already keeps TIOCSTI from a
    // container without CAP_SYS_ADMIN; the seccomp rule keeps it from any container but a --privileged one.
    const underTerminal = (args: string[]) =>
      scratch.host.exec([join(rootfs, 'bin/probe'), 'pty', process.execPath, CLI, 'run', '--rm', '--rootfs', rootfs, ...args, '/bin/probe', 'tiocsti']);
    for (const args of [[], ['--cap-add', 'SYS_ADMIN']]) {
      const result = await underTerminal(args);
      expect(String(result.stdout).trim(), String(result.stderr)).toBe('tiocsti: Operation not permitted');
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("sends only from its own IPv4 and MAC address: frames with another's are dropped at its veth", async () => {
    // A UDP listener on the host; the container sends one datagram as itself and one with each kind of forged
    // source. Only the first may arrive, and with the container's own address.
    const listener = scratch.host.exec([
      process.execPath,
      '-e',
      "const s=require('dgram').createSocket('udp4');" +
        "s.on('message',(m,r)=>console.log(r.address+' '+m));" +
        "s.bind(7777,()=>console.log('listening'));setTimeout(()=>process.exit(0),2500)",
    ]);
    await new Promise<void>((resolve) => listener.stdout!.once('data', () => resolve()));
    const gatewayMac = '02:6d:63:00:00:01';
    const ownMac = '02:6d:63:00:00:32'; // follows the address 10.0.0.50 (network/names.ts)
    const frames = [
      [ownMac, '10.0.0.50', 'genuine'],
      [ownMac, '10.0.0.3', 'forged-ip'],
      ['02:6d:63:00:00:03', '10.0.0.50', 'forged-mac'],
      ['02:6d:63:00:00:03', '10.0.0.3', 'forged-both'],
    ];
    const script = frames.map(([mac, ip, text]) => `probe frame eth0 ${gatewayMac} ${mac} ${ip} 10.0.0.1 7777 ${text}`).join('; ');
    const sent = await scratch.host.minictr(['run', '--rm', '--ip', '10.0.0.50', '--rootfs', rootfs, '/bin/sh', '-c', script]);
    expect(sent.stdout).toBe('send: ok\nsend: ok\nsend: ok\nsend: ok');
    const received = String((await listener).stdout).split('\n').slice(1).filter(Boolean);
    expect(received).toEqual(['10.0.0.50 genuine']);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('exec waits for its process even while a tracer in the container holds it after its exit', async () => {
    // A tracer is told of its tracee's exit before the parent, and until it waits for it the parent cannot reap it,
    // although the process's pidfd already reads as exited. exec once failed then, 125 with "waitid failed with
    // errno 11"; it now waits for the reap.
    const holder = await scratch.host.minictr(['run', '-d', '--name', 'holder', '--cap-add', 'SYS_PTRACE', '--rootfs', rootfs, '/bin/probe', 'holdexit', '1000']);
    expect(holder.exitCode, holder.stderr).toBe(0);
    try {
      const exec = await scratch.host.minictr(['exec', 'holder', '/bin/sleep', '0.5']);
      expect(exec.exitCode, exec.stderr).toBe(0);
      let log = '';
      for (let i = 0; i < 50 && log !== 'held'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        log = (await scratch.host.minictr(['logs', 'holder'])).stdout;
      }
      expect(log).toBe('held');
    } finally {
      await scratch.host.minictr(['rm', '-f', 'holder']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("exec's process is born with the container's privileges: a container keeping CAP_SYS_PTRACE catches nothing more", async () => {
    // The watcher seizes every process born in the container and reads its capabilities while it holds it. Before
    // the joiner applied the profile itself, exec's process waited for its release with every capability, and a
    // watcher that caught it could make it mount, load modules or open files by handle on the host.
    const watch = await scratch.host.minictr(['run', '-d', '--name', 'watcher', '--cap-add', 'SYS_PTRACE', '--rootfs', rootfs, '/bin/probe', 'capwatch', '25']);
    expect(watch.exitCode, watch.stderr).toBe(0);
    try {
      for (let i = 0; i < 30; i++) {
        const exec = await scratch.host.minictr(['exec', 'watcher', '/bin/true']);
        expect(exec.exitCode, exec.stderr).toBe(0);
      }
      expect((await scratch.host.minictr(['exec', 'watcher', '/bin/touch', '/tmp/stop'])).exitCode).toBe(0);
      let log = '';
      for (let i = 0; i < 100 && !log.includes('seen'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        log = (await scratch.host.minictr(['logs', 'watcher'])).stdout;
      }
      const [, seen, over] = /seen (\d+), over (\d+)/.exec(log) ?? [];
      expect(Number(seen), log).toBeGreaterThan(0);
      expect(Number(over), log).toBe(0);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'watcher']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("exec without -t never hands the caller's terminal to the container: pipes are relayed instead", async () => {
    // Whatever an exec'd command leaves running in the container would otherwise keep the user's terminal after
    // exec returns, reading what is typed next. Under a real pseudo-terminal, the process sees /dev/null and pipes,
    // its output still arrives, its status is exec's, and a process it leaves behind does not hold exec up.
    const box = await scratch.host.minictr(['run', '-d', '--name', 'ttybox', '/bin/sleep', '60']);
    expect(box.exitCode, box.stderr).toBe(0);
    try {
      const script = 'ls -l /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2 | sed "s/.*-> //"; (sleep 5) & echo done >&2; exit 3';
      const started = Date.now();
      const result = await scratch.host.exec([join(rootfs, 'bin/probe'), 'pty', process.execPath, CLI, 'exec', 'ttybox', '/bin/sh', '-c', script]);
      expect(result.exitCode).toBe(3);
      expect(String(result.stdout).replace(/\r/g, '')).toMatch(/^\/dev\/null\npipe:\[\d+\]\npipe:\[\d+\]\ndone\n?$/);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'ttybox']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('learns no IPv6 route or address from a router advertisement sent by a container, nor do other containers', async () => {
    const bystander = await scratch.host.minictr(['run', '-d', '--rm', '--name', 'bystander', '/bin/sleep', '30']);
    expect(bystander.exitCode, bystander.stderr).toBe(0);
    try {
      // Sent three times, 200 ms apart: one advertisement is enough, the repeats rule out a lost frame.
      const sent = await probe([], 'ra', 'eth0');
      expect(sent.stdout).toBe('send: ok');
      await probe([], 'ra', 'eth0');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await probe([], 'ra', 'eth0');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const hostRoutes = await scratch.host.must(['ip', '-6', 'route', 'show', 'table', 'all']);
      const hostAddresses = await scratch.host.must(['ip', '-6', 'addr', 'show']);
      expect(hostRoutes).not.toMatch(/proto ra|fe80::bad/);
      expect(hostAddresses).not.toContain('2001:db8:5:');
      // /proc/net spells addresses as 32 hex digits: the advertised prefix and the advertising router.
      const inside = await scratch.host.minictr(['exec', 'bystander', '/bin/cat', '/proc/net/ipv6_route', '/proc/net/if_inet6']);
      expect(inside.exitCode, inside.stderr).toBe(0);
      expect(inside.stdout).not.toMatch(/20010db80005|fe800000000000000000000000000bad/);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'bystander']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
