import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerResolvConf, hostsFile } from '../../src/container/etc-files.js';
import { findCommand, resolveInRoot } from '../../src/container/rootfs.js';

describe('/etc files', () => {
  it('maps localhost and the container name to its address', () => {
    const hosts = hostsFile('web', '10.0.0.9');
    expect(hosts).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hosts).toMatch(/^10\.0\.0\.9\tweb$/m);
    expect(hostsFile('web', null)).toMatch(/^127\.0\.1\.1\tweb$/m);
  });

  it('drops loopback nameservers from resolv.conf and keeps the rest', () => {
    const host = 'search example.org\nnameserver 127.0.0.53\nnameserver 192.0.2.53\nnameserver ::1\noptions edns0\n';
    expect(containerResolvConf(host)).toBe('search example.org\nnameserver 192.0.2.53\noptions edns0\n');
    expect(containerResolvConf('nameserver 127.0.0.53\n')).toMatch(/only loopback nameservers/);
  });
});

describe('command lookup inside a rootfs', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'minictr-rootfs-'));
    for (const dir of ['bin', 'usr/bin', 'etc', 'opt']) mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, 'bin/busybox'), '');
    chmodSync(join(root, 'bin/busybox'), 0o755);
    symlinkSync('/bin/busybox', join(root, 'bin/sh'));
    symlinkSync('../../bin/busybox', join(root, 'usr/bin/wget'));
    symlinkSync('/etc/../../../../etc/passwd', join(root, 'opt/escape'));
    symlinkSync('loop', join(root, 'opt/loop'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves absolute and relative symlinks inside the root, never above it', () => {
    expect(resolveInRoot(root, '/bin/sh')).toBe(join(root, 'bin/busybox'));
    expect(resolveInRoot(root, '/usr/bin/wget')).toBe(join(root, 'bin/busybox'));
    expect(resolveInRoot(root, '/opt/escape')).toBe(join(root, 'etc/passwd'));
    expect(resolveInRoot(root, '/../../bin/sh')).toBe(join(root, 'bin/busybox'));
    expect(resolveInRoot(root, '/opt/loop')).toBeNull();
    expect(resolveInRoot(root, '/missing')).toBeNull();
  });

  it('searches PATH like a shell and keeps the path the user would see', () => {
    expect(findCommand(root, 'sh', '/usr/bin:/bin', '/')).toBe('/bin/sh');
    expect(findCommand(root, 'wget', '/usr/bin:/bin', '/')).toBe('/usr/bin/wget');
    expect(findCommand(root, './sh', '/usr/bin', '/bin')).toBe('/bin/sh');
  });

  it("fails with Docker's exit-code kinds", () => {
    expect(() => findCommand(root, 'nope', '/bin', '/')).toThrow(expect.objectContaining({ kind: 'not-found' }));
    expect(() => findCommand(root, '/bin/nope', '/bin', '/')).toThrow(/no such file or directory/);
    expect(() => findCommand(root, '/etc/passwd', '/bin', '/')).toThrow(expect.objectContaining({ kind: 'cannot-execute' }));
    expect(() => findCommand(root, '/etc', '/bin', '/')).toThrow(/is a directory/);
  });
});
