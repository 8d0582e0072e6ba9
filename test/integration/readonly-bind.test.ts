// -v HOST:CTR:ro in a scratch host, when the host directory has mounts beneath it: they are part of the bind (it
// is recursive, as Docker's is), so they must be read-only too. A bind is made read-only by a remount, which only
// touches the top mount: the submounts stayed writable, and `-v /:/host:ro` let a container write into the host's
// /run, /home or any other file system mounted below the source.

import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('a read-only bind is read-only all the way down (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'minictr-readonly-bind-'));
    mkdirSync(join(dir, 'sub'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('a mount below the source of -v …:ro and --mount …,readonly refuses writes', async () => {
    // The submount exists in the scratch host's mount namespace only, where minictr runs.
    await scratch.host.must(['mount', '-t', 'tmpfs', 'tmpfs', join(dir, 'sub')]);
    try {
      for (const flag of [['-v', `${dir}:/data:ro`], ['--mount', `type=bind,source=${dir},target=/data,readonly`]]) {
        const result = await scratch.host.minictr(['run', '--rm', '--network', 'none', ...flag, '/bin/sh', '-c', 'touch /data/top; touch /data/sub/written; ls /data/sub']);
        expect(result.stderr).toMatch(/touch: \/data\/top: Read-only file system/);
        expect(result.stderr).toMatch(/touch: \/data\/sub\/written: Read-only file system/);
        expect(result.stdout).toBe('');
      }
    } finally {
      await scratch.host.must(['umount', join(dir, 'sub')]);
    }
    expect(readdirSync(dir)).toEqual(['sub']);
  });
});
