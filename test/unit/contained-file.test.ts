// Reading files a rootfs or a container controls (src/container/contained-file.ts) and the --user lookup built on
// it, with real files: a FIFO, a symlink out of the root, a device, a file past the cap. Each must come back at
// once, with the reason.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainedFile } from '../../src/container/contained-file.js';
import { resolveUser } from '../../src/container/users.js';

describe('readContainedFile', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'minictr-contained-'));
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    execFileSync('mkfifo', [join(root, 'etc/fifo')]);
    symlinkSync('/dev/zero', join(root, 'etc/zero')); // resolved inside the root: <root>/dev/zero
    mkdirSync(join(root, 'dev'));
    writeFileSync(join(root, 'etc/big'), Buffer.alloc(1024 * 1024 + 1, 'x'));
    writeFileSync(join(root, 'etc/exact'), Buffer.alloc(1024, 'y'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads a regular file, and null for a missing one', () => {
    expect(readContainedFile(root, '/etc/passwd', 1024)).toBe('root:x:0:0:root:/root:/bin/sh\n');
    expect(readContainedFile(root, '/etc/missing', 1024)).toBeNull();
    expect(readContainedFile(root, '/etc/zero', 1024)).toBeNull(); // /dev/zero of the root, which has none
    expect(readContainedFile(root, '/etc/exact', 1024)).toHaveLength(1024);
  });

  it('refuses a FIFO at once instead of blocking', () => {
    expect(() => readContainedFile(root, '/etc/fifo', 1024)).toThrow('/etc/fifo is a FIFO, not a regular file');
  });

  it('refuses a device and a directory', () => {
    // With the host's / as the root, /dev/zero is the device itself.
    expect(() => readContainedFile('/', '/dev/zero', 1024)).toThrow('/dev/zero is a character device, not a regular file');
    expect(() => readContainedFile(root, '/etc', 1024)).toThrow('/etc is a directory, not a regular file');
  });

  it('refuses a file past the cap, naming it', () => {
    expect(() => readContainedFile(root, '/etc/big', 1024 * 1024)).toThrow('/etc/big is larger than 1 MiB');
    expect(() => readContainedFile(root, '/etc/exact', 1000)).toThrow('/etc/exact is larger than 1000 bytes');
  });

  it('caps what it reads even where the size says 0 (procfs)', () => {
    expect(() => readContainedFile('/', '/proc/self/maps', 16)).toThrow('/proc/self/maps is larger than 16 bytes');
  });
});

describe('resolveUser on a hostile rootfs', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'minictr-users-'));
    mkdirSync(join(root, 'etc'));
    execFileSync('mkfifo', [join(root, 'etc/passwd')]);
    writeFileSync(join(root, 'etc/group'), 'staff:x::\n');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('needs no passwd for a number, as Docker', () => {
    expect(resolveUser(root, '0', 'rootfs R')).toEqual({ uid: 0, gid: 0, home: '/' });
    expect(resolveUser(root, '1000:5', 'rootfs R')).toEqual({ uid: 1000, gid: 5, home: '/' });
  });

  it('says why a name cannot be looked up', () => {
    expect(() => resolveUser(root, 'root', 'rootfs R')).toThrow('unable to find user root: /etc/passwd is a FIFO, not a regular file (in rootfs R)');
  });

  it('refuses an id field that is not a number (Number("") would be root)', () => {
    expect(() => resolveUser(root, '0:staff', 'rootfs R')).toThrow('invalid id "" for staff in /etc/group (in rootfs R)');
  });
});
