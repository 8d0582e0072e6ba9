// SIGKILL of minictr at every point of a run (MINICTR_CRASH_AT, see src/container/crash.ts), then `minictr gc`:
// the container dies with minictr, and gc removes everything else, so the scratch host ends equal to its snapshot.

import { describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../src/container/crash.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

describe.skipIf(!isRoot)('SIGKILL of minictr at every step, then gc (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  for (const point of CRASH_POINTS) {
    it(`restores the host after a crash at "${point}"`, async () => {
      const args = ['run', '--name', 'crashy', '--ip', '10.0.0.77', '-p', '8099:80', '/bin/sh', '-c', 'sleep 5'];
      const crashed = await scratch.host.start(args, { env: { MINICTR_CRASH_AT: point } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const debris = await scratch.host.snapshot();
      expect(debris.state.some((path) => path.startsWith('containers/'))).toBe(true);
      const gc = await scratch.host.minictr(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(gc.stdout).toMatch(/^[0-9a-f]{64}$/);
      expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
    });
  }
});
