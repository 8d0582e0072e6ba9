// `minictr cp` out of a hostile container, in a scratch host. minictr copies as root on the host and does not keep
// owners (out, a copy belongs to whoever runs minictr): a set-user-ID or set-group-ID bit the container put on a
// file or directory would make the host copy a root-owned setuid program the container wrote. The bits are dropped,
// as GNU cp drops them when it does not keep the owner.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

function expectOk(result: Result): void {
  expect(result.exitCode, `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0);
}

describe.skipIf(!isRoot)('cp out of a hostile container (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-hostile-copy-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a setuid or setgid file or directory comes out without those bits', async () => {
    const script = 'mkdir /tmp/d && cp /bin/busybox /tmp/su && cp /bin/busybox /tmp/d/sg && chown 1234 /tmp/su && chmod 4755 /tmp/su && chmod 6755 /tmp/d/sg && chmod 2775 /tmp/d && exec sleep 60';
    expectOk(await scratch.host.minictr(['run', '-d', '--name', 'setuid-box', '--network', 'none', '/bin/sh', '-c', script]));
    try {
      for (let ready = false; !ready; ) ready = (await scratch.host.minictr(['exec', 'setuid-box', '/usr/bin/test', '-u', '/tmp/su'])).exitCode === 0;
      expectOk(await scratch.host.minictr(['cp', 'setuid-box:/tmp/su', join(dir, 'su')]));
      expectOk(await scratch.host.minictr(['cp', 'setuid-box:/tmp/d', join(dir, 'd')]));
      expect(statSync(join(dir, 'su')).mode & 0o7777).toBe(0o755);
      expect(statSync(join(dir, 'd')).mode & 0o7777).toBe(0o775 & ~process.umask());
      expect(statSync(join(dir, 'd', 'sg')).mode & 0o7777).toBe(0o755);
    } finally {
      expectOk(await scratch.host.minictr(['rm', '-f', 'setuid-box']));
    }
  });
});
