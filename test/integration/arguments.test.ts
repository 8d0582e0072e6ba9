// The container's argv and environment as the user gave them: bytes that are not UTF-8 (Node's own decoding would
// turn them into U+FFFD), as many arguments as the kernel takes, and a clear error where it takes no more.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

/** The bytes the container gets for "@B@" below: 0xff and an overlong NUL, neither of them UTF-8. */
const BYTES = Buffer.from([0x61, 0xff, 0x62, 0xc0, 0x80]);
/** bash puts them in place of @B@ in every argument, and in $H; Node's spawn could not (it encodes UTF-8). */
const WRAPPER = "b=$(printf 'a\\377b\\300\\200'); export H=$b; exec \"${@//@B@/$b}\"";

describe.skipIf(!isRoot)('arguments and environment (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  const minictr = async (args: string[]) => {
    const result = await scratch.host.exec(['bash', '-c', WRAPPER, 'bash', process.execPath, CLI, ...args], { encoding: 'buffer', timeout: 20_000 });
    return { exitCode: result.exitCode, stdout: Buffer.from(result.stdout as Uint8Array), stderr: Buffer.from(result.stderr as Uint8Array).toString() };
  };
  // Prints $K, $H and every argument, each followed by a NUL.
  const printer = ['/bin/sh', '-c', 'printf "%s\\0" "$K" "$H" "$@"', 'sh', '@B@', 'é', '', 'x@B@y'];
  const printed = Buffer.concat([BYTES, Buffer.of(0), BYTES, Buffer.of(0), BYTES, Buffer.from('\0é\0\0x'), BYTES, Buffer.from('y\0')]);

  it('run and exec hand argv, -e KEY=VALUE and -e KEY to the container byte for byte', async () => {
    const run = await minictr(['run', '--rm', '--network', 'none', '-e', 'K=@B@', '-e', 'H', ...printer]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toEqual(printed);

    const detached = await scratch.host.minictr(['run', '-d', '--name', 'bytes', '--network', 'none', '/bin/sleep', '30']);
    expect(detached.exitCode, detached.stderr).toBe(0);
    try {
      const exec = await minictr(['exec', '-e', 'K=@B@', '-e', 'H', 'bytes', ...printer]);
      expect(exec.exitCode, exec.stderr).toBe(0);
      expect(exec.stdout).toEqual(printed);
    } finally {
      await scratch.host.minictr(['rm', '-f', 'bytes']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('passes more than 65,536 arguments', async () => {
    const args = Array.from({ length: 100_000 }, (_, i) => String(i));
    const result = await scratch.host.minictr(['run', '--rm', '--network', 'none', '/bin/sh', '-c', 'echo "$# ${100000}"', 'sh', ...args]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('100000 99999');
  });

  it("says which limit an environment beyond the kernel's hits (E2BIG), creating nothing", async () => {
    // minictr's own command line is small; the container's environment comes from an --env-file with enough
    // distinct 100 kB variables to pass ARG_MAX (a key given twice counts once, as in Docker).
    const argMax = Number((await execa('getconf', ['ARG_MAX'])).stdout);
    const big = 'x'.repeat(100_000);
    const dir = mkdtempSync(join(tmpdir(), 'minictr-e2big-'));
    const file = join(dir, 'big.env');
    writeFileSync(file, Array.from({ length: Math.ceil(argMax / big.length) + 1 }, (_, n) => `BIG${n}=${big}\n`).join(''));
    const result = await scratch.host.minictr(['run', '--rm', '--network', 'none', '--env-file', file, '/bin/true']);
    rmSync(dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(125);
    expect(result.stderr).toMatch(/Argument list too long: the command's arguments and environment together exceed the kernel's limit \(getconf ARG_MAX/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
