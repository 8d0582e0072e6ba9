// Detached containers and their lifecycle: run -d under minictr-monitor, logs (-f), ps -a, stop, kill, rm (-f),
// --rm, names, --init, -t, and the same at scale (200 run/rm cycles, 20 at once). Every test ends with the scratch
// host equal to its snapshot, monitors included.

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { httpGet, isRoot, useScratchHost, type ScratchHost, type Snapshot } from '../helpers/scratch-host.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface PsEntry {
  id: string;
  name: string | null;
  status: string;
  address: string | null;
  exitCode: number | null;
  process: { pid: number } | null;
}

async function psJson(host: ScratchHost, all = true): Promise<PsEntry[]> {
  const result = await host.minictr(['ps', ...(all ? ['-a'] : []), '--format', 'json']);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PsEntry[];
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await check()); await sleep(50)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

/** The state letter of every process in the container (R, S, Z...), read from its /proc through exec. */
async function processStates(host: ScratchHost, container: string): Promise<string[]> {
  const result = await host.minictr(['exec', container, '/bin/sh', '-c', 'cat /proc/[0-9]*/stat']);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean).map((line) => line.slice(line.lastIndexOf(')') + 2, line.lastIndexOf(')') + 3));
}

async function stableSnapshot(host: ScratchHost): Promise<Snapshot> {
  for (let previous = await host.snapshot(); ; await sleep(100)) {
    const current = await host.snapshot();
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    previous = current;
  }
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A process's resident memory (VmRSS), in KiB. */
function residentKiB(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

function parentCommand(pid: number): string {
  return readFileSync(`/proc/${parentOf(pid)}/comm`, 'utf8').trim();
}

describe.skipIf(!isRoot)('run -d and the container lifecycle (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  // A failed test must not leave its containers to the next one.
  afterEach(() => scratch.host.removeAllContainers());

  it('run -d prints the id at once; the monitor is the parent, logs the output, and serves ports until stop', async () => {
    const run = await scratch.host.minictr([
      'run', '-d', '--name', 'web', '-p', '8090:80', '/bin/sh', '-c', 'echo hello; echo oops >&2; exec httpd -f -p 80 -h /www',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^[0-9a-f]{64}$/);
    const [web] = await psJson(scratch.host, false);
    expect(web?.id).toBe(run.stdout.trim());
    expect(web?.status).toBe('running');
    expect(parentCommand(web!.process!.pid)).toBe('minictr-monitor');
    // One per detached container, for as long as it runs: built without a C library it is a few pages (as a static
    // glibc program it took about 870 KiB).
    expect(residentKiB(parentOf(web!.process!.pid))).toBeLessThanOrEqual(256);
    expect((await httpGet((argv) => scratch.host.exec(argv), 'http://127.0.0.1:8090/')).stdout).toContain('minictr');
    await waitUntil('the log', async () => (await scratch.host.minictr(['logs', 'web'])).stdout === 'hello');
    const logs = await scratch.host.minictr(['logs', 'web']);
    expect(logs.stderr).toBe('oops');
    expect((await scratch.host.minictr(['logs', '-t', 'web'])).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello$/);
    const stopped = await scratch.host.minictr(['stop', '-t', '1', 'web']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    const [exited] = await psJson(scratch.host);
    expect(exited).toMatchObject({ name: 'web', status: 'exited', exitCode: 137, address: null });
    expect((await scratch.host.minictr(['ps', '-a'])).stdout).toMatch(/web .* Exited \(137\) (?:Less than a second|\d+ seconds?) ago/);
    expect((await scratch.host.minictr(['logs', 'web'])).stdout).toBe('hello'); // kept after exit
    expect((await scratch.host.minictr(['rm', 'web'])).stdout).toBe('web');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('logs -f follows the output while the container runs and ends when it exits', async () => {
    const run = await scratch.host.minictr(['run', '-d', '--name', 'ticker', '/bin/sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.4; done']);
    expect(run.exitCode, run.stderr).toBe(0);
    const follow = scratch.host.start(['logs', '-f', 'ticker']);
    const firstLine = new Promise<void>((resolve) => follow.stdout?.on('data', (d: Buffer) => d.toString().includes('tick 1') && resolve()));
    await firstLine;
    expect((await psJson(scratch.host, false)).map((c) => c.name)).toEqual(['ticker']); // still running
    const followed = await follow;
    expect(followed.exitCode).toBe(0);
    expect(followed.stdout).toBe('tick 1\ntick 2\ntick 3');
    expect((await psJson(scratch.host))[0]).toMatchObject({ status: 'exited', exitCode: 0 });
    await scratch.host.minictr(['rm', 'ticker']);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('logs -f ends when the monitor dies without writing exit.json, and the container is kept as killed', async () => {
    const run = await scratch.host.minictr(['run', '-d', '--name', 'orphan', '/bin/sh', '-c', 'echo up; sleep 60']);
    expect(run.exitCode, run.stderr).toBe(0);
    const follow = scratch.host.start(['logs', '-f', 'orphan']);
    await new Promise<void>((resolve) => follow.stdout?.on('data', (d: Buffer) => d.toString().includes('up') && resolve()));
    const [orphan] = await psJson(scratch.host, false);
    process.kill(parentOf(orphan!.process!.pid), 'SIGKILL'); // its minictr-monitor
    const followed = await follow;
    expect(followed.exitCode).toBe(0);
    expect(followed.stdout).toBe('up');
    await waitUntil('the container to be kept as killed', async () => (await psJson(scratch.host))[0]?.exitCode === 137);
    await scratch.host.minictr(['rm', 'orphan']);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('keeps exited containers (and their names) until rm; --rm removes them', async () => {
    expect((await scratch.host.minictr(['run', '--name', 'keep', '/bin/sh', '-c', 'exit 3'])).exitCode).toBe(3);
    expect(await psJson(scratch.host, false)).toEqual([]);
    expect((await psJson(scratch.host)).map((c) => [c.name, c.status, c.exitCode])).toEqual([['keep', 'exited', 3]]);
    const taken = await scratch.host.minictr(['run', '--name', 'keep', '/bin/true']);
    expect(taken.exitCode).toBe(125);
    expect(taken.stderr).toMatch(/name "keep" is already in use/);
    const gone = await scratch.host.minictr(['run', '-d', '--rm', '--name', 'gone', '/bin/true']);
    expect(gone.exitCode, gone.stderr).toBe(0);
    await waitUntil('--rm to remove it', async () => !(await psJson(scratch.host)).some((c) => c.name === 'gone'));
    expect((await scratch.host.minictr(['rm', 'keep'])).exitCode).toBe(0);
    expect((await scratch.host.minictr(['run', '--rm', '--name', 'keep', '/bin/true'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('inspect right after a detached container exits finds it: never missing while its cleanup runs', async () => {
    // The monitor's `minictr cleanup` moves the directory out of sight while it tears the container down; listings
    // wait for such a teardown to end instead of not finding the container (it failed about once in ten before).
    const ids: string[] = [];
    for (let round = 0; round < 20; round++) {
      const run = await scratch.host.minictr(['run', '-d', '--network', 'none', '/bin/true']);
      expect(run.exitCode, run.stderr).toBe(0);
      ids.push(run.stdout);
      const inspect = await scratch.host.minictr(['inspect', run.stdout]);
      expect(inspect.exitCode, `round ${round}: ${inspect.stderr}`).toBe(0);
    }
    expect((await scratch.host.minictr(['rm', '-f', ...ids])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('refuses what a container\'s state does not allow, with Docker\'s exit codes, changing nothing', async () => {
    expect((await scratch.host.minictr(['run', '-d', '--name', 'busy', '/bin/sleep', '100'])).exitCode).toBe(0);
    expect((await scratch.host.minictr(['run', '--name', 'done', '/bin/true'])).exitCode).toBe(0);
    const snapshot = await stableSnapshot(scratch.host); // done's veth goes a few ms after it exits
    const refused = await scratch.host.minictr(['rm', 'busy']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/cannot remove container busy: it is running: stop it first, or use rm -f/);
    const stopDone = await scratch.host.minictr(['stop', 'done']);
    expect(stopDone.exitCode).toBe(0);
    expect(stopDone.stderr).toMatch(/container done is not running/);
    for (const [command, message] of [
      [['kill', 'done'], /cannot kill container done: it is not running/],
      [['exec', 'done', '/bin/true'], /container done is not running/],
      [['rm', 'nope'], /No such container: nope/],
      [['logs', 'nope'], /No such container: nope/],
      [['logs', 'done'], /no log: only detached containers/],
    ] as const) {
      const result = await scratch.host.minictr([...command]);
      expect(result.exitCode, command.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    for (const name of ['x', '-bad', 'a b', 'é']) {
      const result = await scratch.host.minictr(['run', '--name', name, '/bin/true']);
      expect(result.exitCode, name).toBe(125);
      expect(result.stderr).toMatch(/invalid --name/);
    }
    expect(await scratch.host.snapshot()).toEqual(snapshot);
    expect((await scratch.host.minictr(['rm', '-f', 'busy', 'done'])).stdout).toBe('busy\ndone');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('--init forwards SIGTERM (stop is immediate) and reaps orphans; without it they stay zombies', async () => {
    for (const [name, init] of [['tini', true], ['plain', false]] as const) {
      const run = await scratch.host.minictr(['run', '-d', ...(init ? ['--init'] : []), '--name', name, '/bin/sleep', '100']);
      expect(run.exitCode, run.stderr).toBe(0);
      // An exec'd shell leaves a child behind: orphaned, it is re-parented to PID 1, and exits after 0.1 s.
      expect((await scratch.host.minictr(['exec', name, '/bin/sh', '-c', 'sleep 0.1 &'])).exitCode).toBe(0);
    }
    await sleep(500);
    expect(await processStates(scratch.host, 'tini')).not.toContain('Z');
    expect(await processStates(scratch.host, 'plain')).toContain('Z');
    const started = Date.now();
    const stopped = await scratch.host.minictr(['stop', '-t', '10', 'tini']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000); // not the 10 s grace time
    expect((await psJson(scratch.host)).find((c) => c.name === 'tini')?.exitCode).toBe(143);
    expect((await scratch.host.minictr(['rm', '-f', 'tini', 'plain'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('-t gives the container a terminal of its own devpts; -i -t sends stdin to it', async () => {
    const tty = await scratch.host.minictr(['run', '--rm', '-t', '/bin/sh', '-c', 'test -t 0 && test -t 1 && tty && stty size']);
    expect(tty.exitCode, tty.stderr).toBe(0);
    // A terminal of the container's own devpts instance, as in Docker: its device exists inside.
    expect(tty.stdout).toMatch(/^\/dev\/pts\/0\r?\n24 80\r?\n?$/);
    const interactive = await scratch.host.minictr(['run', '--rm', '-i', '-t', '/bin/sh'], { input: 'echo hi-$((1+2)); exit 5\n' });
    expect(interactive.exitCode).toBe(5);
    expect(interactive.stdout).toContain('hi-3');
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('-d -i keeps stdin open (a shell waits), and -d -t gives a terminal whose output is logged', async () => {
    expect((await scratch.host.minictr(['run', '-d', '-i', '-t', '--name', 'shell', '/bin/sh'])).exitCode).toBe(0);
    expect((await scratch.host.minictr(['run', '-d', '-i', '--name', 'reader', '/bin/cat'])).exitCode).toBe(0);
    await sleep(300);
    expect((await psJson(scratch.host, false)).map((c) => c.name).sort()).toEqual(['reader', 'shell']);
    const seen = await scratch.host.minictr(['exec', 'shell', '/bin/sh', '-c', 'readlink /proc/1/fd/0']);
    expect(seen.stdout).toBe('/dev/pts/0');
    expect((await scratch.host.minictr(['run', '-d', '-t', '--name', 'tty', '/bin/sh', '-c', 'tty; echo done'])).exitCode).toBe(0);
    await waitUntil('the terminal output', async () => (await scratch.host.minictr(['logs', 'tty'])).stdout.includes('done'));
    expect((await scratch.host.minictr(['logs', 'tty'])).stdout).toMatch(/^\/dev\/pts\/0\r?\ndone\r?$/);
    expect((await scratch.host.minictr(['rm', '-f', 'shell', 'reader', 'tty'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  // What a cycle could leak is in the snapshot (processes, mounts, cgroups, links, state); the machine-wide count of
  // open files is not compared: other workloads on the same host move it by hundreds.
  it('200 run -d / rm -f cycles leave nothing behind', async () => {
    const cycle = async () => {
      const run = await scratch.host.minictr(['run', '-d', '/bin/sleep', '100']);
      expect(run.exitCode, run.stderr).toBe(0);
      const rm = await scratch.host.minictr(['rm', '-f', run.stdout.trim()]);
      expect(rm.exitCode, rm.stderr).toBe(0);
    };
    const workers = Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 50; i++) await cycle();
    });
    await Promise.all(workers);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  }, 240_000);

  it('20 concurrent run -d get 20 distinct addresses, all reachable', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        scratch.host.minictr(['run', '-d', '/bin/sh', '-c', 'hostname > /www/index.html; exec httpd -f -p 80 -h /www']),
      ),
    );
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    const containers = await psJson(scratch.host, false);
    expect(containers).toHaveLength(20);
    const addresses = new Set(containers.map((c) => c.address));
    expect(addresses.size).toBe(20);
    for (const container of containers) {
      const page = await httpGet((argv) => scratch.host.exec(argv), `http://${container.address}/`);
      expect(page.stdout, page.stderr).toBe(container.id.slice(0, 12));
    }
    // Usually well under a second; on a host busy with other containers, each cgroup removal waits for an RCU grace
    // period, so this one call gets more than the default 20 s before it counts as hung.
    const removed = await scratch.host.minictr(['rm', '-f', ...containers.map((c) => c.id)], { timeout: 45_000 });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  }, 90_000);
});
