// SIGKILL of minictr at every point of a run (MINICTR_CRASH_AT, see src/container/crash.ts), then `minictr gc`:
// the container dies with minictr, and gc removes everything else, so the scratch host ends equal to its snapshot.
// Detached (-d), the monitor outlives minictr: without the handoff byte it kills PID 1 (released or not, and even
// when the record already names the monitor) and runs the same teardown itself. A later run leaves the leftovers
// to gc, unless one of its claims (name, address, port) meets them: then it runs gc and claims again.

import { readFileSync } from 'node:fs';
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

  it('removes a map element that no port file accounts for: a publish that outlived its killed minictr', async () => {
    const crashed = await scratch.host.start(['run', ...ARGS], { env: { MINICTR_CRASH_AT: 'ports' } });
    expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
    // What the nft process of another killed run would commit after gc had unpublished its port (see
    // removeStalePublished in gc.ts): an element for a port whose file is gone, which this container's own
    // unpublish (port 8099) does not touch.
    const late = await scratch.host.exec(['nft', 'add', 'element', 'ip', 'minictr', 'published_any', '{ tcp . 8098 : 10.0.0.78 . 80 }']);
    expect(late.exitCode, String(late.stderr)).toBe(0);
    const gc = await scratch.host.minictr(['gc']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it("publishes a port that a stale map element still holds: the element is nobody's, and goes", async () => {
    const late = await scratch.host.exec(['nft', 'add', 'element', 'ip', 'minictr', 'published_any', '{ tcp . 8097 : 10.0.0.78 . 80 }']);
    expect(late.exitCode, String(late.stderr)).toBe(0);
    const run = await scratch.host.minictr(['run', '--rm', '-p', '8097:80', '/bin/true']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('a run leaves a killed run\'s leftovers to gc when nothing it claims is theirs', async () => {
    const crashed = await scratch.host.start(['run', ...ARGS], { env: { MINICTR_CRASH_AT: 'running' } });
    expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
    const debris = await scratch.host.snapshot();
    const other = await scratch.host.minictr(['run', '--rm', '--name', 'other', '-p', '8096:80', '/bin/true']);
    expect(other.exitCode, other.stderr).toBe(0);
    expect((await scratch.host.snapshot()).state).toEqual(debris.state); // no gc: a run's start does not grow with the containers
    const gc = await scratch.host.minictr(['gc']);
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  // The name, the address and the host port are all held by the killed run's container: each claim fails once,
  // runs gc, and succeeds.
  for (const claim of [['--name', 'crashy'], ['--ip', '10.0.0.77'], ['-p', '8099:80']]) {
    it(`a run whose ${claim[0]} a killed run's container holds collects it and starts`, async () => {
      const crashed = await scratch.host.start(['run', ...ARGS], { env: { MINICTR_CRASH_AT: 'running' } });
      expect(crashed.signal, String(crashed.stderr)).toBe('SIGKILL');
      const run = await scratch.host.minictr(['run', '--rm', ...claim, '/bin/true']);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
    });
  }

  it('run -d: a run whose name a container with a killed monitor holds collects it and starts', async () => {
    const detached = await scratch.host.minictr(['run', '-d', ...ARGS]);
    expect(detached.exitCode, detached.stderr).toBe(0);
    const [container] = JSON.parse((await scratch.host.minictr(['ps', '--format', 'json'])).stdout) as { process: { pid: number } }[];
    const stat = readFileSync(`/proc/${container!.process.pid}/stat`, 'utf8');
    process.kill(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]), 'SIGKILL'); // its minictr-monitor
    const run = await scratch.host.minictr(['run', '--rm', '--name', 'crashy', '-p', '8099:80', '/bin/true']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await scratch.host.settle(scratch.before, 5000)).toEqual(scratch.before);
  });

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
