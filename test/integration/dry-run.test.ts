// `minictr run --dry-run` changes nothing, and its script, executed as root in the scratch host, builds an
// equivalent container: hostname, address, default route, the gateway reachable, a published port answering,
// the exit status passed through, and nothing left behind. Arguments written to break out of their shell words
// stay in them, and reach the container byte for byte.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('minictr run --dry-run (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-dry-run-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a script that, run as root, builds the same container', async () => {
    const command = [
      'hostname',
      'ip -4 -o addr show eth0',
      'ip route',
      'ping -c 1 -W 2 10.0.0.1',
      'httpd -p 80 -h /www',
      'wget -q -O - http://10.0.0.1:8087/',
      'echo "env: $GREETING"',
      'exit 7',
    ].join('; ');
    const args = ['run', '--rm', '--dry-run', '--ip', '10.0.0.9', '-h', 'dry', '-p', '8087:80', '-e', 'GREETING=hi there', '/bin/sh', '-c', command];
    const dry = await scratch.host.minictr(args);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^#!\/bin\/bash\n/);
    expect(dry.stdout).toContain('link add mc');
    expect(dry.stdout).toContain('add element ip minictr published_any { tcp . 8087 : 10.0.0.9 . 80 }');
    expect(await scratch.host.snapshot()).toEqual(scratch.before);

    const script = join(dir, 'run.sh');
    writeFileSync(script, `${dry.stdout}\n`);
    const result = await scratch.host.exec(['bash', script], { timeout: 20_000 });
    const output = String(result.stdout);
    expect(result.exitCode, `${output}\n${String(result.stderr)}`).toBe(7);
    expect(output.split('\n')[0]).toBe('dry');
    expect(output).toMatch(/eth0\s+inet 10\.0\.0\.9\/24/);
    expect(output).toMatch(/^default via 10\.0\.0\.1 dev eth0/m);
    expect(output).toContain('1 packets transmitted, 1 packets received');
    expect(output).toContain('Hello from a minictr container');
    expect(output).toContain('env: hi there');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('keeps every argument in its shell word, comments included, and hands it to the container byte for byte', async () => {
    // Each would run `touch /run/PWNED-N` as root on the host if the script let it out of its word (/run is the
    // scratch host's own tmpfs). The script is first checked without running it: only once no argument has added
    // a line is it run.
    const hostile = [
      'x\ntouch /run/PWNED-1 #',
      'y\nMINICTR_CHILD\ntouch /run/PWNED-2\n',
      '$(touch /run/PWNED-3)',
      '`touch /run/PWNED-4`',
      "'; touch /run/PWNED-5; '",
      '\\"; touch /run/PWNED-6 #\\',
    ];
    const env = 'V=z\ntouch /run/PWNED-7 #';
    const dryRun = async (args: string[]) => {
      // bash appends an argument holding the byte 0xff, which Node's own spawn cannot pass (it encodes UTF-8).
      const wrapper = 'exec "$@" "$(printf \'a\\377b\')"';
      const command = ['/bin/sh', '-c', 'printf "%s\\0" "$V" "$@"', 'sh'];
      const run = [process.execPath, CLI, 'run', '--rm', '--dry-run', '--network', 'none', '-e', env, ...command, ...args];
      const result = await scratch.host.exec(['bash', '-c', wrapper, 'bash', ...run]);
      expect(result.exitCode, String(result.stderr)).toBe(0);
      return String(result.stdout);
    };
    const text = await dryRun(hostile);
    const plain = await dryRun(hostile.map(() => 'plain'));
    expect(text.split('\n')).toHaveLength(plain.split('\n').length);
    const script = join(dir, 'hostile.sh');
    writeFileSync(script, text);
    expect((await scratch.host.exec(['bash', '-n', script])).exitCode).toBe(0);

    const result = await scratch.host.exec(['bash', script], { timeout: 20_000, encoding: 'buffer' });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const expected = [env.slice(2), ...hostile].map((value) => Buffer.from(`${value}\0`));
    expect(Buffer.from(result.stdout as Uint8Array)).toEqual(Buffer.concat([...expected, Buffer.from([0x61, 0xff, 0x62, 0])]));
    for (let n = 1; n <= 7; n++) expect(existsSync(`/proc/${scratch.host.pid}/root/run/PWNED-${n}`)).toBe(false);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });
});
