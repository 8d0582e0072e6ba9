// --env-file through the installed command (dist/cli.js run as a program, as `npm link` installs it): Node 20 looks
// for `--env-file FILE` anywhere in its argv, even after the script, so without the `--` in cli.js's first line a
// missing file was Node's own error and exit 9 ("node: FILE: not found") instead of minictr's.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('--env-file (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  const bin = (args: string[]) => scratch.host.exec([CLI, ...args], { timeout: 20_000 });
  const dir = mkdtempSync(join(tmpdir(), 'minictr-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the container the file's variables, -e winning", async () => {
    const file = join(dir, 'app.env');
    writeFileSync(file, '# app settings\nGREETING=hello world\nLEVEL=debug\nPATH=/nowhere\n');
    const result = await bin(['run', '--rm', '--env-file', file, '-e', 'LEVEL=info', '/bin/sh', '-c', 'echo "$GREETING|$LEVEL|$PATH"']);
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(String(result.stdout)).toBe('hello world|info|/nowhere');

    const detached = await bin(['run', '-d', '--name', 'envs', '--network', 'none', '/bin/sleep', '30']);
    expect(detached.exitCode, String(detached.stderr)).toBe(0);
    try {
      const exec = await bin(['exec', '--env-file', file, 'envs', '/bin/sh', '-c', 'echo "$GREETING|$LEVEL"']);
      expect(exec.exitCode, String(exec.stderr)).toBe(0);
      expect(String(exec.stdout)).toBe('hello world|debug');
    } finally {
      await scratch.host.minictr(['rm', '-f', 'envs']);
    }
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('names a missing or malformed file, exits 125 and leaves nothing behind', async () => {
    const missing = await bin(['run', '--rm', '--env-file', join(dir, 'missing.env'), '/bin/true']);
    expect(missing.exitCode).toBe(125);
    expect(String(missing.stderr)).toMatch(/--env-file .*missing\.env: ENOENT: no such file or directory/);
    const bad = join(dir, 'bad.env');
    writeFileSync(bad, 'OK=1\nNOT OK=2\n');
    const malformed = await bin(['run', '--rm', '--env-file', bad, '/bin/true']);
    expect(malformed.exitCode).toBe(125);
    expect(String(malformed.stderr)).toMatch(/bad\.env, line 2/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
