// `minictr run --dry-run` changes nothing, and its script, executed as root in the scratch host, builds an
// equivalent container: hostname, address, default route, the gateway reachable, a published port answering,
// the exit status passed through, and nothing left behind.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

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
    expect(dry.stdout).toMatch(/^#!\/bin\/sh\n/);
    expect(dry.stdout).toContain('link add mc');
    expect(dry.stdout).toContain('add element ip minictr published_any { tcp . 8087 : 10.0.0.9 . 80 }');
    expect(await scratch.host.snapshot()).toEqual(scratch.before);

    const script = join(dir, 'run.sh');
    writeFileSync(script, `${dry.stdout}\n`);
    const result = await scratch.host.exec(['sh', script], { timeout: 20_000 });
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
});
