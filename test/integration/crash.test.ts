// SIGKILL of minictr at every point of a run (MINICTR_CRASH_AT, see src/container/crash.ts), then `minictr gc`:
// the container dies with minictr, and gc removes everything else, so the scratch host ends equal to its snapshot.
// Detached (-d), the monitor outlives minictr: without the handoff byte it kills PID 1 (released or not, and even
// when the record already names the monitor) and runs the same teardown itself.

import { describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../src/container/crash.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

const ARGS = ['--rm', '--name', 'crashy', '--ip', '10.0.0.77', '-p', '8099:80', '/bin/sh', '-c', 'sleep 5'];

describe.skipIf(!isRoot)('SIGKILL of minictr at every step, then gc (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  for (const point of CRASH_POINTS.filter((p) => p !== 'handoff')) {
    it(`restores the host after a crash at "${point}"`, async () => {
      const crashed = await scratch.host.start(['run', ...ARGS], { env: { MINICTR_CRASH_AT: point } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const debris = await scratch.host.snapshot();
      expect(debris.state.some((path) => path.startsWith('containers/'))).toBe(true);
      const gc = await scratch.host.minictr(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(gc.stdout).toMatch(/^[0-9a-f]{64}$/);
      expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
    });
  }

  for (const point of CRASH_POINTS.filter((p) => p !== 'running')) {
    it(`run -d: restores the host after a crash at "${point}"`, async () => {
      const crashed = await scratch.host.start(['run', '-d', ...ARGS], { env: { MINICTR_CRASH_AT: point } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const gc = await scratch.host.minictr(['gc']);
      expect(gc.exitCode, gc.stderr).toBe(0);
      expect(await scratch.host.settle(scratch.before, 5000)).toEqual(scratch.before);
    });
  }
});
