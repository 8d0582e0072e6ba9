// Bad input to `minictr run`: each case gets a clear message on stderr and Docker's exit code, and leaves the
// scratch host exactly as it was, down to the state directory. Validation happens before anything is created, so
// on a fresh host not even the bridge may appear.

import { accessSync, constants } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { CLI, isRoot, ScratchHost, type Result, type Snapshot } from '../helpers/scratch-host.js';

function expectRejected(result: Result, code: number, message: RegExp): void {
  const detail = `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  expect(result.exitCode, detail).toBe(code);
  expect(result.stderr, detail).toMatch(message);
  expect(result.stdout, detail).toBe('');
}

function readableByNobody(path: string): boolean {
  // Every directory from / down must be world-searchable for an unprivileged user to load the CLI.
  const parts = path.split('/').slice(1);
  return parts.every((_, i) => {
    try {
      accessSync(`/${parts.slice(0, i + 1).join('/')}`, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
}

describe.skipIf(!isRoot)('minictr run: bad input on a fresh host (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let pristine: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    pristine = await host.snapshot();
  });

  afterAll(async () => {
    await host?.dispose();
  });

  const cases: [string, string[], number, RegExp][] = [
    ['a rootfs that does not exist', ['--rootfs', '/nonexistent', '/bin/true'], 125, /rootfs \/nonexistent does not exist/],
    ['a rootfs that is not a directory', ['--rootfs', '/etc/hostname', '/bin/true'], 125, /is not a directory/],
    ['a command missing from the rootfs', ['/bin/nope'], 127, /exec "\/bin\/nope": no such file or directory/],
    // Without --rootfs a first argument that is not an absolute path names an image (never pulled here: --pull never).
    ['a command missing from PATH', ['--rootfs', BUSYBOX_ROOTFS, 'nope'], 127, /exec "nope": executable file not found in \$PATH/],
    ['an image missing from the store, with --pull never', ['--pull', 'never', 'nope'], 125, /image nope is not in the store, and --pull never forbids pulling it/],
    ['a command that is not executable', ['/etc/passwd'], 126, /exec \/etc\/passwd: permission denied/],
    ['a directory as command', ['/www'], 126, /exec \/www: is a directory/],
    ['a malformed --ip', ['--ip', '10.0.0', '/bin/true'], 125, /invalid --ip "10\.0\.0": not an IPv4 address/],
    ['an --ip with leading zeros', ['--ip', '10.0.0.07', '/bin/true'], 125, /not an IPv4 address/],
    ['an --ip outside the subnet', ['--ip', '192.168.1.5', '/bin/true'], 125, /outside the container subnet 10\.0\.0\.0\/24/],
    ['the network address', ['--ip', '10.0.0.0', '/bin/true'], 125, /is the network address/],
    ['the gateway address', ['--ip', '10.0.0.1', '/bin/true'], 125, /is the gateway/],
    ['the broadcast address', ['--ip', '10.0.0.255', '/bin/true'], 125, /is the broadcast address/],
    ['--ip with --network none', ['--network', 'none', '--ip', '10.0.0.3', '/bin/true'], 125, /--ip cannot be used with --network none/],
    ['an unknown network mode', ['--network', 'overlay', '/bin/true'], 125, /invalid --network "overlay"/],
    ['an invalid hostname', ['--hostname', 'bad_host!', '/bin/true'], 125, /invalid --hostname/],
    ['an invalid name', ['--name', '-x', '/bin/true'], 125, /invalid --name/],
    ['a relative workdir', ['-w', 'tmp', '/bin/true'], 125, /invalid --workdir "tmp"/],
    ['an env entry without a key', ['-e', '=x', '/bin/true'], 125, /invalid --env "=x"/],
    ['a name longer than its limit', ['--name', 'n'.repeat(129), '/bin/true'], 125, /invalid --name "n+": .*from 2 to 128 characters/],
    ['a hexadecimal --cpus', ['--cpus', '0x10', '/bin/true'], 125, /invalid --cpus "0x10"/],
    ['an exponent in --pids-limit', ['--pids-limit', '1e3', '/bin/true'], 125, /invalid --pids-limit "1e3"/],
    ['an exponent in --memory', ['--memory', '1e3m', '/bin/true'], 125, /invalid --memory "1e3m"/],
    ['a --pids-limit beyond the kernel\'s', ['--pids-limit', '99999999999', '/bin/true'], 125, /^minictr: invalid --pids-limit "99999999999": a whole number of processes from 1 to 4194304$/],
    ['a --memory beyond what the kernel takes', ['--memory', '99999999999999999g', '/bin/true'], 125, /^minictr: invalid --memory "99999999999999999g": a size from 6m to 8388608g/],
    ['an unknown --log-opt', ['-d', '--log-opt', 'compress=true', '/bin/true'], 125, /invalid --log-opt "compress=true": unknown option "compress"/],
    ['a bad --log-opt max-size', ['-d', '--log-opt', 'max-size=10x', '/bin/true'], 125, /invalid --log-opt "max-size=10x": max-size must be a positive size/],
    ['a bad --log-opt max-file', ['-d', '--log-opt', 'max-file=0', '/bin/true'], 125, /invalid --log-opt "max-file=0": max-file must be a whole number/],
    ['--log-opt without -d', ['--log-opt', 'max-file=2', '/bin/true'], 125, /--log-opt needs -d/],
    ['an unknown flag', ['--bogus', '/bin/true'], 125, /unknown option '--bogus'/],
    ['no command', [], 125, /no command given/],
  ];

  for (const [what, args, code, message] of cases) {
    it(`rejects ${what} with exit ${code}, creating nothing`, async () => {
      expectRejected(await host.minictr(['run', '--rm', ...args]), code, message);
      expect(await host.snapshot()).toEqual(pristine);
    });
  }

  it('rejects a missing host program (nft not in PATH) before creating anything', async () => {
    const result = await host.exec(['env', 'PATH=/nonexistent', process.execPath, CLI, 'run', '/bin/true']);
    expectRejected(
      { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) },
      125,
      /nft not found in PATH: install it with "apt-get install nftables"/,
    );
    expect(await host.snapshot()).toEqual(pristine);
  });

  it.skipIf(!readableByNobody(CLI))('rejects a user who is not root', async () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
    const result = await host.exec([...nobody, process.execPath, CLI, 'run', '/bin/true']);
    expectRejected(
      { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) },
      125,
      /must run as root/,
    );
    expect(await host.snapshot()).toEqual(pristine);
  });

  it('rejects an address or a name held by a running container, leaving that container untouched', async () => {
    const holder = host.start(['run', '--rm', '--ip', '10.0.0.9', '--name', 'holder', '/bin/sh', '-c', 'echo ready; read line'], { stdin: 'pipe' });
    await new Promise<void>((resolve) => holder.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
    const running = await host.snapshot();
    expectRejected(await host.minictr(['run', '--rm', '--ip', '10.0.0.9', '/bin/true']), 125, /address 10\.0\.0\.9 is already in use by container [0-9a-f]{12}/);
    expect(await host.snapshot()).toEqual(running);
    expectRejected(await host.minictr(['run', '--rm', '--name', 'holder', '/bin/true']), 125, /the container name "holder" is already in use/);
    expect(await host.snapshot()).toEqual(running);
    holder.stdin?.end('done\n');
    expect((await holder).exitCode).toBe(0);
  });
});
