// Who can reach a volume's files on the host, in a fresh scratch host (no container has run): only root. A volume
// holds what a container (root inside) wrote, set-user-ID programs included; the volumes directory lets others
// through (0701, as Docker's), so the data root above it must not (0700), whichever command makes it first. When
// `volume create` (or any volume) made it, it was 0701 too, and any host user could run a container's setuid-root
// program from /var/lib/minictr/volumes/NAME/_data (the class of Docker's CVE-2021-41091).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, useScratchHost, type Result } from '../helpers/scratch-host.js';

function expectOk(result: Result): void {
  expect(result.exitCode, `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`).toBe(0);
}

describe.skipIf(!isRoot)('the data root of a fresh host (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  const dataRoot = () => `/proc/${scratch.host.pid}/root/var/lib/minictr`;

  it('volume create first: another user of the host cannot reach a file a container wrote in a volume', async () => {
    expectOk(await scratch.host.minictr(['volume', 'create', 'first']));
    expect(statSync(dataRoot()).mode & 0o777).toBe(0o700);
    expectOk(await scratch.host.minictr(['run', '--rm', '--network', 'none', '-v', 'first:/data', '/bin/sh', '-c', 'echo secret > /data/f; chmod 4755 /data/f']));
    const asNobody = await scratch.host.exec(['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', 'cat', join('/var/lib/minictr/volumes/first/_data/f')]);
    expect(asNobody.exitCode).not.toBe(0);
    expect(String(asNobody.stderr)).toMatch(/Permission denied/);
    expectOk(await scratch.host.minictr(['volume', 'rm', 'first']));
  });
});
