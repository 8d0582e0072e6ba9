// What a rootfs or a running container controls, turned against minictr: a /dev (or /proc, /sys, /etc) that is a
// symlink, which a run must refuse rather than mount over; an /etc/passwd that is a FIFO, a device or huge, which
// --user and exec -u must refuse at once rather than hang on or read without end. Each case ends promptly, with a
// clear message and exit 125, and leaves nothing behind; a numeric user needs no passwd at all, as in Docker.

import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

const IMAGE = fileURLToPath(new URL('../../rootfs/image', import.meta.url));
/** Every case here answers at once; a hang or an endless read runs into this. */
const PROMPT = { timeout: 8000 };

function explain(result: Result): string {
  return `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

describe.skipIf(!isRoot)('files and paths a rootfs or a container controls (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let rootfs: string;

  beforeEach(() => {
    rootfs = join(mkdtempSync(join(tmpdir(), 'minictr-hostile-')), 'rootfs');
    cpSync(IMAGE, rootfs, { recursive: true, verbatimSymlinks: true });
  });

  afterEach(() => {
    rmSync(join(rootfs, '..'), { recursive: true, force: true });
  });

  const run = (args: string[]) => scratch.host.minictr(['run', '--rm', '--rootfs', rootfs, ...args], PROMPT);

  const refusedPaths: [string, () => void, RegExp][] = [
    ['/dev is a symlink to /tmp', () => { rmSync(join(rootfs, 'dev'), { recursive: true }); symlinkSync('/tmp', join(rootfs, 'dev')); }, /: \/dev is a symlink \(to \/tmp\); minictr mounts on it/],
    ['/proc is a relative symlink', () => { rmSync(join(rootfs, 'proc'), { recursive: true }); symlinkSync('tmp', join(rootfs, 'proc')); }, /: \/proc is a symlink \(to tmp\)/],
    ['/sys is a file', () => { rmSync(join(rootfs, 'sys'), { recursive: true }); writeFileSync(join(rootfs, 'sys'), ''); }, /: \/sys is not a directory/],
    ['/etc is a symlink', () => { renameSync(join(rootfs, 'etc'), join(rootfs, 'etc.real')); symlinkSync('/etc.real', join(rootfs, 'etc')); }, /: \/etc is a symlink \(to \/etc\.real\)/],
    ['/etc/hosts is a directory', () => mkdirSync(join(rootfs, 'etc/hosts')), /: \/etc\/hosts is a directory; minictr writes a file there/],
  ];
  for (const [what, make, message] of refusedPaths) {
    it(`refuses a rootfs whose ${what}, creating nothing`, async () => {
      make();
      const result = await run(['/bin/true']);
      expect(result.exitCode, explain(result)).toBe(125);
      expect(result.stderr).toMatch(new RegExp(`^minictr: rootfs ${rootfs}${message.source}`));
      expect(await scratch.host.snapshot()).toEqual(scratch.before);
    });
  }

  it('still replaces an /etc/resolv.conf that is a symlink (not followed: the link itself is replaced)', async () => {
    symlinkSync('../run/systemd/resolve/stub-resolv.conf', join(rootfs, 'etc/resolv.conf'));
    const result = await run(['/bin/sh', '-c', '[ -L /etc/resolv.conf ] || echo replaced; [ -e /run/systemd ] || echo untouched']);
    expect(result.exitCode, explain(result)).toBe(0);
    expect(result.stdout).toBe('replaced\nuntouched');
  });

  const hostilePasswd: [string, () => Promise<unknown> | void, RegExp][] = [
    ['a FIFO', () => execa('mkfifo', [join(rootfs, 'etc/passwd.new')]), /\/etc\/passwd is a FIFO, not a regular file/],
    ['larger than 1 MiB', () => writeFileSync(join(rootfs, 'etc/passwd.new'), 'x'.repeat(2 * 1024 * 1024)), /\/etc\/passwd is larger than 1 MiB/],
  ];
  for (const [what, make, message] of hostilePasswd) {
    it(`--user with a rootfs whose /etc/passwd is ${what}: a name is refused at once, a number needs no passwd`, async () => {
      await make();
      renameSync(join(rootfs, 'etc/passwd.new'), join(rootfs, 'etc/passwd'));
      const named = await run(['--user', 'nobody', '/bin/true']);
      expect(named.exitCode, explain(named)).toBe(125);
      expect(named.stderr).toMatch(new RegExp(`^minictr: unable to find user nobody: ${message.source} \\(in rootfs ${rootfs}\\)$`));
      expect(await scratch.host.snapshot()).toEqual(scratch.before);
      // Not `id`: it would read the same /etc/passwd, from inside the container.
      const numbered = await run(['--user', '65534', '/bin/grep', '^Uid:', '/proc/self/status']);
      expect(numbered.exitCode, explain(numbered)).toBe(0);
      expect(numbered.stdout).toMatch(/^Uid:\t65534\t/);
    });
  }

  // The container replaces its own /etc/passwd; exec -u then reads it through /proc/PID/root.
  const replacedPasswd: [string, string, RegExp][] = [
    ['a FIFO', 'rm /etc/passwd && mkfifo /etc/passwd', /\/etc\/passwd is a FIFO, not a regular file/],
    ['a symlink to /dev/zero', 'ln -sf /dev/zero /etc/passwd', /\/etc\/passwd is a character device, not a regular file/],
  ];
  for (const [what, replace, message] of replacedPasswd) {
    it(`exec -u in a container that made its /etc/passwd ${what}: -u 0 works, -u root is refused at once`, async () => {
      const started = await scratch.host.minictr(['run', '-d', '--name', 'hostile', '--network', 'none', '/bin/sh', '-c', `${replace} && exec sleep 60`]);
      expect(started.exitCode, explain(started)).toBe(0);
      try {
        // exec without -u runs as the container's user, with no lookup: it sees when the file is in place.
        const settled = await scratch.host.minictr(['exec', 'hostile', '/bin/sh', '-c', 'while [ -f /etc/passwd ]; do sleep 0.05; done'], PROMPT);
        expect(settled.exitCode, explain(settled)).toBe(0);
        const numbered = await scratch.host.minictr(['exec', '-u', '0', 'hostile', '/bin/grep', '^Uid:', '/proc/self/status'], PROMPT);
        expect(numbered.exitCode, explain(numbered)).toBe(0);
        expect(numbered.stdout).toMatch(/^Uid:\t0\t/);
        expect(numbered.stderr).toMatch(new RegExp(`warning: ${message.source} \\(in container hostile\\); a numeric user needs no entry`));
        const named = await scratch.host.minictr(['exec', '-u', 'root', 'hostile', '/bin/true'], PROMPT);
        expect(named.exitCode, explain(named)).toBe(125);
        expect(named.stderr).toMatch(new RegExp(`^minictr: unable to find user root: ${message.source} \\(in container hostile\\)$`));
      } finally {
        await scratch.host.minictr(['rm', '-f', 'hostile']);
      }
      expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
    });
  }
});
