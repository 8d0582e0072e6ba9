// Device access: a container opens only Docker's default devices and its --device nodes, though it may create any
// node (CAP_MKNOD, as in Docker); --privileged lifts that. Through the CLI this exercises the policy of this host's
// cgroup version (v1 devices files on hybrid hosts); the cgroup v2 program (BPF_CGROUP_DEVICE) is also attached for
// real to a scratch cgroup of the cgroup2 hierarchy, wherever it is mounted, and a process placed in it.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DEVICE_RULES } from '../../src/bpf/device-filter.js';
import { createCgroups, removeCgroups } from '../../src/container/cgroups.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('device access (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  const run = (args: string[], script: string) => scratch.host.minictr(['run', '--rm', ...args, '/bin/sh', '-c', script]);

  it("cannot open a node it makes for a host device: the host's kernel log stays untouched", async () => {
    const marker = `minictr-kmsg-${process.pid}-${Date.now()}`;
    const result = await run([], `mknod /tmp/k c 1 11 && echo made; echo "<4>${marker}" > /tmp/k; echo "status $?"`);
    expect(result.stdout).toBe('made\nstatus 1');
    expect(result.stderr).toContain("can't create /tmp/k: Operation not permitted");
    const log = await scratch.host.exec(['dmesg']);
    expect(String(log.stdout)).not.toContain(marker);
  });

  it('cannot open loop-control or a disk either, whatever node it makes', async () => {
    const result = await run([], 'mknod /tmp/loop c 10 237; mknod /tmp/disk b 7 0; (: < /tmp/loop); (: < /tmp/disk); echo done');
    expect(result.stdout).toBe('done');
    expect(result.stderr.match(/Operation not permitted/g)).toHaveLength(2);
  });

  it("still uses the default devices: null, zero, full, random, urandom, tty, ptmx", async () => {
    const result = await run([], [
      'echo x > /dev/null && echo null',
      'echo "zero $(head -c 3 /dev/zero | wc -c)"',
      '(echo x > /dev/full) 2>&1 | grep -q "No space left" && echo full',
      'echo "random $(head -c 3 /dev/random | wc -c) $(head -c 3 /dev/urandom | wc -c)"',
      // No controlling terminal without -t: the kernel's answer is ENXIO, not the policy's EPERM.
      '(: < /dev/tty) 2>&1 | grep -q "No such device or address" && echo tty',
      ': < /dev/ptmx && echo ptmx',
    ].join('; '));
    expect(result.stdout).toBe('null\nzero 3\nfull\nrandom 3 3\ntty\nptmx');
    const tty = await scratch.host.minictr(['run', '--rm', '-t', '/bin/sh', '-c', ': < /dev/tty && echo tty-ok']);
    expect(tty.stdout).toContain('tty-ok');
  });

  it.skipIf(!existsSync('/dev/loop-control'))('--device adds a host device with the permissions given (skipped: no /dev/loop-control)', async () => {
    const zero = await run(['--device', '/dev/zero:/dev/myzero', '--device', '/dev/null:/dev/sub/mynull'], [
      'ls -l /dev/myzero /dev/sub/mynull | cut -c1',
      'head -c 5 /dev/myzero | wc -c',
      'echo x > /dev/sub/mynull && echo written',
    ].join('; '));
    expect(zero.stdout).toBe('c\nc\n5\nwritten');
    // loop-control (c 10:237) is outside the default set: opened for reading with "r", not for writing (an open
    // does nothing to it either way).
    const loop = await run(['--device', '/dev/loop-control:r'], '(: < /dev/loop-control) && echo read; (: > /dev/loop-control) || echo write-refused');
    expect(loop.stdout).toBe('read\nwrite-refused');
    expect(loop.stderr).toContain('Operation not permitted');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('--privileged opens any device node it makes', async () => {
    const result = await run(['--privileged'], 'mknod /tmp/k c 1 11 && : < /tmp/k && echo opened');
    expect(result.stdout).toBe('opened');
  });

  it('exec joins the policy too', async () => {
    const started = await scratch.host.minictr(['run', '-d', '--name', 'devices-exec', '/bin/sleep', '60']);
    expect(started.exitCode, started.stderr).toBe(0);
    try {
      const result = await scratch.host.minictr(['exec', 'devices-exec', '/bin/sh', '-c', 'mknod /tmp/loop c 10 237; (: < /tmp/loop) || echo refused']);
      expect(result.stdout).toBe('refused');
      expect(result.stderr).toContain('Operation not permitted');
    } finally {
      await scratch.host.minictr(['rm', '-f', 'devices-exec']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('refuses a --device that is not a device before creating anything', async () => {
    for (const [value, message] of [
      ['/etc/passwd:/dev/passwd', 'invalid --device /etc/passwd: not a character or block device'],
      ['/dev/no-such-device', 'invalid --device /dev/no-such-device: ENOENT'],
      ['/dev/zero:/etc/zero', 'invalid --device "/dev/zero:/etc/zero": the container path must name a file under /dev/'],
      ['/dev/zero:/dev/z:rwx', 'invalid --device "/dev/zero:/dev/z:rwx": PERMS must be letters among r, w and m'],
    ]) {
      const result = await run(['--device', value!], 'true');
      expect(result.exitCode, value).toBe(125);
      expect(result.stderr, value).toContain(message);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});

/** Where the cgroup2 hierarchy is mounted: /sys/fs/cgroup (v2) or /sys/fs/cgroup/unified (hybrid); null: nowhere. */
function cgroup2Root(): string | null {
  for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) if (existsSync(join(root, 'cgroup.procs')) && existsSync(join(root, 'cgroup.stat'))) return root;
  return null;
}

describe.skipIf(!isRoot || cgroup2Root() === null)('the cgroup v2 device program (needs root and cgroup2: skipped otherwise)', () => {
  /** Runs `script` in a shell placed in `cgroup` (when given) before it reads its first line. */
  async function inCgroup(cgroup: string | null, script: string): Promise<string> {
    const shell = spawn('/bin/sh', ['-c', `read line; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    shell.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    shell.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ended = new Promise<void>((resolve) => shell.on('close', () => resolve()));
    if (cgroup !== null) writeFileSync(join(cgroup, 'cgroup.procs'), String(shell.pid));
    shell.stdin.end('go\n');
    await ended;
    return output;
  }

  it('allows the default devices and refuses the others, on the real kernel', async () => {
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((line) => line.startsWith('0::'))!.slice(3);
    const dir = join(cgroup2Root()!, own, `minictr-test-${process.pid}`);
    const nodes = mkdtempSync(join(tmpdir(), 'minictr-devices-'));
    const script = [
      `mknod ${nodes}/kmsg c 1 11 && echo made`,
      ': < /dev/null && echo null',
      ': < /dev/urandom && echo urandom',
      `(: < ${nodes}/kmsg && echo kmsg-opened) 2>&1 | sed 's/.*: //'`,
      '(: < /dev/loop-control && echo loop-opened) 2>&1 | sed "s/.*: //"',
    ].join('; ');
    try {
      // Control: the same shell outside the scratch cgroup opens them all (loop-control where the host has it).
      const control = await inCgroup(null, script);
      expect(control).toContain('kmsg-opened');
      rmSync(join(nodes, 'kmsg'), { force: true });
      mkdirSync(dir);
      await createCgroups([{ dir, files: [], enable: [], devices: [...DEFAULT_DEVICE_RULES] }]);
      const output = await inCgroup(dir, script);
      expect(output).toMatch(/^made\nnull\nurandom\nOperation not permitted\n(Operation not permitted|No such file or directory)\n$/);
    } finally {
      await removeCgroups([dir]);
      rmSync(nodes, { recursive: true, force: true });
    }
  });
});
