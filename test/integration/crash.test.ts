// SIGKILL of minictr at every point of a run (MINICTR_CRASH_AT, see src/container/crash.ts), then `minictr gc`:
// the container dies with minictr, and gc removes everything else, so the scratch host ends equal to its snapshot.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../src/container/crash.js';
import { isRoot, ScratchHost, type Snapshot } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('SIGKILL of minictr at every step, then gc (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    expect((await host.minictr(['run', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  });

  afterAll(async () => {
    await host?.dispose();
  });

  for (const point of CRASH_POINTS) {
    it(`restores the host after a crash at "${point}"`, async () => {
      const args = ['run', '--name', 'crashy', '--ip', '10.0.0.77', '-p', '8099:80', '/bin/sh', '-c', 'sleep 5'];
      const crashed = await host.start(args, { env: { MINICTR_CRASH_AT: point } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const debris = await host.snapshot();
      expect(debris.state.some((path) => path.startsWith('containers/'))).toBe(true);
      const gc = await host.minictr(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(gc.stdout).toMatch(/^[0-9a-f]{64}$/);
      expect(await host.settle(before)).toEqual(before);
    });
  }
});
