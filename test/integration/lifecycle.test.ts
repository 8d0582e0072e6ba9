// ps, inspect, kill and stop on running containers, found by name, id or id prefix.

import { describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { startTimeOf } from '../../src/sys/proc.js';
import { isRoot, useScratchHost } from '../helpers/scratch-host.js';

function ready(run: ResultPromise): Promise<void> {
  return new Promise<void>((resolve) => run.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
}

describe.skipIf(!isRoot)('minictr ps, inspect, kill, stop (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });

  it('lists running containers with name, command, address and ports; -q and --format json', async () => {
    const web = scratch.host.start(['run', '--rm', '--name', 'web', '--ip', '10.0.0.31', '-p', '8088:80', '/bin/sh', '-c', 'echo ready; read x'], { stdin: 'pipe' });
    const db = scratch.host.start(['run', '--rm', '--name', 'db', '/bin/sh', '-c', 'echo ready; read x'], { stdin: 'pipe' });
    await Promise.all([ready(web), ready(db)]);
    const table = await scratch.host.minictr(['ps']);
    expect(table.exitCode, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^CONTAINER ID +IMAGE +NAME +COMMAND +CREATED +STATUS +IP +PORTS$/);
    expect(table.stdout).toMatch(/^[0-9a-f]{12} +minictr\/busybox:builtin +web +\/bin\/sh -c echo ready; read x +(?:Less than a second|\d+ seconds?) ago +Up (?:Less than a second|\d+ seconds?) +10\.0\.0\.31 +0\.0\.0\.0:8088->80\/tcp$/m);
    expect(table.stdout).toMatch(/^[0-9a-f]{12} +minictr\/busybox:builtin +db /m);
    const quiet = await scratch.host.minictr(['ps', '-q']);
    expect(quiet.stdout.split('\n')).toHaveLength(2);
    const json = JSON.parse((await scratch.host.minictr(['ps', '--format', 'json'])).stdout) as { name: string; address: string }[];
    expect(json.map((c) => c.name).sort()).toEqual(['db', 'web']);
    web.stdin?.end('x\n');
    db.stdin?.end('x\n');
    await Promise.all([web, db]);
    expect((await scratch.host.minictr(['ps', '-q'])).stdout).toBe('');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('inspect shows the record, the process, the address, the ports and the host objects owned', async () => {
    const run = scratch.host.start(['run', '--rm', '--name', 'probe', '--ip', '10.0.0.33', '-p', '8089:80', '/bin/sh', '-c', 'echo ready; read x'], { stdin: 'pipe' });
    await ready(run);
    const result = await scratch.host.minictr(['inspect', 'probe']);
    expect(result.exitCode, result.stderr).toBe(0);
    const [info] = JSON.parse(result.stdout) as {
      name: string; address: string; process: { pid: number }; record: { argv: string[] }; hostObjects: { kind: string }[];
    }[];
    expect(info?.name).toBe('probe');
    expect(info?.address).toBe('10.0.0.33');
    expect(info?.process.pid).toBeGreaterThan(1);
    expect(info?.record.argv).toEqual(['/bin/sh', '-c', 'echo ready; read x']);
    expect(info?.hostObjects.map((o) => o.kind)).toEqual(['layer', 'name', 'lease', 'ports', 'cgroup', 'process', 'veth']);
    run.stdin?.end('x\n');
    await run;
    expect((await scratch.host.minictr(['inspect', 'probe'])).exitCode).toBe(1);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('kill -s sends the signal to PID 1 by name or id prefix', async () => {
    const run = scratch.host.start(['run', '--rm', '--name', 'trap', '/bin/sh', '-c', "trap 'exit 42' USR1; echo ready; while :; do sleep 0.05; done"]);
    await ready(run);
    const id = (await scratch.host.minictr(['ps', '-q'])).stdout.trim();
    const killed = await scratch.host.minictr(['kill', '-s', 'USR1', id.slice(0, 6)]);
    expect(killed.exitCode, killed.stderr).toBe(0);
    expect(killed.stdout).toBe(id.slice(0, 6));
    expect((await run).exitCode).toBe(42);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('stop waits the grace time for a PID 1 that ignores SIGTERM, then kills it', async () => {
    const run = scratch.host.start(['run', '--rm', '--name', 'stubborn', '/bin/sh', '-c', 'echo ready; while :; do sleep 0.05; done']);
    await ready(run);
    const started = Date.now();
    const stopped = await scratch.host.minictr(['stop', '-t', '1', 'stubborn']);
    const took = Date.now() - started;
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(5000);
    expect((await run).exitCode).toBe(137);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('answers an unknown container with exit 1, changing nothing', async () => {
    for (const command of [['kill', 'nope'], ['stop', 'nope']]) {
      const result = await scratch.host.minictr(command);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('No such container: nope');
    }
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });

  it('system reset refuses while a container runs, and a run refuses while a reset is under way', async () => {
    const running = scratch.host.start(['run', '--rm', '--name', 'busy', '/bin/sh', '-c', 'echo ready; read x'], { stdin: 'pipe' });
    await ready(running);
    const refused = await scratch.host.minictr(['system', 'reset']);
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toMatch(/cannot reset while containers are running or being collected: [0-9a-f]{12}/);
    running.stdin?.end('x\n');
    await running;
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before); // its veth goes with its netns, a moment later

    // A reset under way, as its marker says: held by a live process (this sleep, standing in for the reset).
    const holder = scratch.host.exec(['sleep', '30']);
    try {
      await scratch.host.exec(['tee', '/run/minictr/reset'], { input: `${holder.pid} ${startTimeOf(holder.pid!)}\n` });
      const marked = await scratch.host.snapshot();
      const blocked = await scratch.host.minictr(['run', '--rm', '/bin/true']);
      expect(blocked.exitCode).toBe(125);
      expect(blocked.stderr).toContain('minictr system reset is under way');
      expect(await scratch.host.snapshot()).toEqual(marked);
      holder.kill();
      await holder;
      // The holder is gone: its marker no longer blocks anything.
      expect((await scratch.host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
      expect(await scratch.host.snapshot()).toEqual(marked);
    } finally {
      holder.kill();
      await scratch.host.exec(['rm', '-f', '/run/minictr/reset']);
    }
    expect(await scratch.host.snapshot()).toEqual(scratch.before);
  });
});
