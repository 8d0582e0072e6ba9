// The default security profile: Docker's capability set, no_new_privs, masked and read-only kernel paths; what a
// container can then no longer do; --cap-add, --cap-drop and --privileged.

import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

// Docker's default capability set, by number (linux/capability.h), as /proc/PID/status prints it.
const DOCKER_DEFAULT_CAP_NUMBERS = {
  CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7, SETPCAP: 8,
  NET_BIND_SERVICE: 10, NET_RAW: 13, SYS_CHROOT: 18, MKNOD: 27, AUDIT_WRITE: 29, SETFCAP: 31,
};
const DOCKER_DEFAULT_CAPS = Object.values(DOCKER_DEFAULT_CAP_NUMBERS)
  .reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n)
  .toString(16)
  .padStart(16, '0');
const CAP_SYS_ADMIN = 21;
const CAP_SYS_MODULE = 16;

describe.skipIf(!isRoot)('default security profile (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  const run = (args: string[], script: string) => scratch.host.minictr(['run', '--rm', ...args, '/bin/sh', '-c', script]);

  it("keeps Docker's default capabilities, with no_new_privs, in every set", async () => {
    const result = await run([], 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status');
    expect(result.exitCode, result.stderr).toBe(0);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd']) expect(result.stdout).toContain(`${set}:\t${DOCKER_DEFAULT_CAPS}`);
    expect(result.stdout).toContain('CapAmb:\t0000000000000000');
    expect(result.stdout).toContain('NoNewPrivs:\t1');
    // Loading modules is out of reach for good: the bounding set the kernel reports lacks it.
    const bounding = BigInt(`0x${/CapBnd:\t([0-9a-f]{16})/.exec(result.stdout)![1]}`);
    expect((bounding >> BigInt(CAP_SYS_MODULE)) & 1n).toBe(0n);
  });

  it('refuses mount, sethostname, kernel settings and sysrq; masked paths read empty', async () => {
    const checks = [
      'mount -t tmpfs none /tmp 2>/dev/null && echo mount-allowed',
      'hostname intruder 2>/dev/null && echo hostname-allowed',
      '(echo 1 > /proc/sys/kernel/sysrq) 2>/dev/null && echo sysctl-allowed',
      '(echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq-allowed',
      'ip addr add 10.9.9.9/32 dev lo 2>/dev/null && echo netadmin-allowed',
      // /proc/kcore exists only with CONFIG_PROC_KCORE: absent counts as empty.
      'echo "kcore=$([ -e /proc/kcore ] && wc -c < /proc/kcore || echo 0) keys=$(wc -c < /proc/keys) timers=$(wc -c < /proc/timer_list) firmware=$(ls /sys/firmware | wc -l)"',
    ].join('; ');
    const result = await run([], checks);
    expect(result.stdout).not.toMatch(/allowed/);
    expect(result.stdout).toContain('kcore=0 keys=0 timers=0 firmware=0');
  });

  it('filters system calls with seccomp: new namespaces are refused unless CAP_SYS_ADMIN is kept', async () => {
    const filtered = await run([], 'grep "^Seccomp:" /proc/self/status; unshare -U true 2>&1; echo "status $?"');
    expect(filtered.stdout).toMatch(/^Seccomp:\t2\nunshare: unshare\(0x10000000\): Operation not permitted\nstatus 1$/);
    const admin = await run(['--cap-add', 'SYS_ADMIN'], 'unshare -m true; echo "status $?"');
    expect(admin.stdout).toBe('status 0');
    const privileged = await run(['--privileged'], 'grep "^Seccomp:" /proc/self/status');
    expect(privileged.stdout).toBe('Seccomp:\t0');
  });

  it('--cap-add and --cap-drop adjust the set', async () => {
    const result = await run(['--cap-add', 'net_admin', '--cap-drop', 'CAP_NET_RAW'], [
      'ip addr add 10.9.9.9/32 dev lo && echo netadmin-allowed',
      'ping -c 1 -W 1 10.0.0.1 >/dev/null 2>&1 || echo raw-refused',
    ].join('; '));
    expect(result.stdout).toBe('netadmin-allowed\nraw-refused');
    const none = await run(['--cap-drop', 'ALL', '--cap-add', 'KILL'], 'grep CapEff /proc/self/status');
    expect(none.stdout).toBe('CapEff:\t0000000000000020');
  });

  it('--privileged lifts the profile', async () => {
    const result = await run(['--privileged'], [
      'grep CapEff /proc/self/status',
      'mount -t tmpfs none /tmp && echo mount-allowed',
      'echo 1 > /proc/sys/net/ipv4/conf/all/forwarding && echo sysctl-allowed',
      'echo "timers=$(wc -c < /proc/timer_list)"',
    ].join('; '));
    const effective = BigInt(`0x${/CapEff:\t([0-9a-f]+)/.exec(result.stdout)?.[1] ?? '0'}`);
    expect((effective >> BigInt(CAP_SYS_ADMIN)) & 1n).toBe(1n);
    expect(result.stdout).toContain('mount-allowed');
    expect(result.stdout).toContain('sysctl-allowed');
    expect(result.stdout).toMatch(/timers=[1-9]\d*/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  // Kernels built without module support (CONFIG_MODULES=n, as on some VMs) refuse every module with ENOSYS.
  it.skipIf(!existsSync('/proc/modules'))('loading a kernel module fails without CAP_SYS_MODULE (skipped: no module support)', async () => {
    const result = await run([], 'echo junk > /tmp/m.ko; insmod /tmp/m.ko 2>&1; echo "status $?"');
    expect(result.stdout).toMatch(/Operation not permitted/);
    expect(result.stdout).not.toContain('status 0');
  });

  it('--user runs as that user, named or numbered, with no capabilities', async () => {
    const named = await run(['--user', 'nobody'], 'id; echo "home=$HOME"; grep CapEff /proc/self/status; touch /root/x 2>/dev/null || echo refused');
    expect(named.stdout).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\nhome=/nonexistent\nCapEff:\t0000000000000000\nrefused');
    const numbered = await run(['-u', '1000:5'], 'id');
    expect(numbered.stdout).toBe('uid=1000 gid=5(tty) groups=5(tty)');
  });

  it('--read-only keeps the root from being written, /etc files included', async () => {
    const result = await run(['--read-only', '-h', 'frozen'], 'cat /etc/hostname; touch /x 2>&1; echo "status $?"');
    expect(result.stdout).toMatch(/^frozen\ntouch: \/x: Read-only file system\nstatus 1$/);
  });

  it.each([
    [['--user', 'ghost'], /unable to find user ghost: no matching entries in passwd file/],
    [['--user', 'root:ghosts'], /unable to find group ghosts/],
    [['--user', 'a:b:c'], /invalid --user "a:b:c"/],
  ])('rejects %j before creating anything', async (args, message) => {
    const result = await scratch.host.minictr(['run', '--rm', ...args, '/bin/true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(message);
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });

  it("a command whose interpreter is /proc/self/exe never reaches the host's node (CVE-2019-5736)", async () => {
    // Until a command's execve() is done, /proc/self/exe is the program that called it. Were that minictr's node,
    // this script would run the host's node inside the container, with a handle on its file, on kernels that follow
    // the link across mount namespaces (this one refuses, ENOENT: exit 127). It names minictr-init's sealed copy
    // instead, which runs, refuses its arguments and says why: exit 126, a command that cannot be executed.
    const rootfs = mkdtempSync(join(tmpdir(), 'minictr-exe-'));
    try {
      cpSync(fileURLToPath(new URL('../../rootfs/image', import.meta.url)), rootfs, { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(rootfs, 'bin/escape'), '#!/proc/self/exe\nconsole.log("host node ran " + process.version)\n', { mode: 0o755 });
      const refused = 'minictr-init: cannot run /bin/escape: its interpreter is minictr-init (#!/proc/self/exe?), which only starts the container\'s commands';
      const run = await scratch.host.minictr(['run', '--rm', '--rootfs', rootfs, '/bin/escape']);
      expect(run.stdout).not.toContain('host node ran');
      expect(run.stderr).toBe(refused);
      expect(run.exitCode).toBe(126);
      const detached = await scratch.host.minictr(['run', '-d', '--rm', '--name', 'exe-check', '--rootfs', rootfs, '/bin/sleep', '30']);
      expect(detached.exitCode, detached.stderr).toBe(0);
      const exec = await scratch.host.minictr(['exec', 'exe-check', '/bin/escape']);
      expect(exec.stdout).not.toContain('host node ran');
      expect(exec.stderr).toBe(refused);
      expect(exec.exitCode).toBe(126);
      const self = await scratch.host.minictr(['exec', 'exe-check', '/bin/readlink', '/proc/self/exe']);
      expect(self.stdout).toBe('/bin/busybox');
    } finally {
      await scratch.host.minictr(['rm', '-f', 'exe-check']);
      rmSync(rootfs, { recursive: true, force: true });
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("exec's process gets the container's bounding set, whatever the container's /proc/sys says", async () => {
    // exec's joiner drops the bounding set inside the container. It once read how many capabilities the kernel
    // knows from /proc/sys/kernel/cap_last_cap there, which a container keeping CAP_SYS_ADMIN can mount over: "1"
    // left every capability from 2 up in the exec'd process's bounding set.
    const script = 'echo 1 > /tmp/one && mount --bind /tmp/one /proc/sys/kernel/cap_last_cap && exec sleep 30';
    const detached = await scratch.host.minictr(['run', '-d', '--rm', '--name', 'caps-check', '--cap-add', 'SYS_ADMIN', '/bin/sh', '-c', script]);
    expect(detached.exitCode, detached.stderr).toBe(0);
    try {
      const mounted = 'i=0; while [ "$(cat /proc/sys/kernel/cap_last_cap)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; cat /proc/sys/kernel/cap_last_cap';
      expect((await scratch.host.minictr(['exec', 'caps-check', '/bin/sh', '-c', mounted])).stdout).toBe('1');
      const exec = await scratch.host.minictr(['exec', 'caps-check', '/bin/grep', 'CapBnd', '/proc/1/status', '/proc/self/status']);
      expect(exec.exitCode, exec.stderr).toBe(0);
      const [container, self] = exec.stdout.split('\n').map((line) => line.replace(/^.*CapBnd:\s*/, ''));
      expect(self).toBe(container);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'caps-check']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('rejects an unknown capability before creating anything', async () => {
    const result = await scratch.host.minictr(['run', '--rm', '--cap-add', 'FLY', '/bin/true']);
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toContain('invalid --cap-add "FLY": unknown capability');
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });
});
