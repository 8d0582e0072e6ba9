// Disk: writable layers on /var/lib/minictr (not on /run, a tmpfs), log rotation (--log-opt), and full file systems.
// The full ones are small tmpfs mounts inside the scratch host's mount namespace, over its /run/minictr (state and
// logs) or /var/lib/minictr (layers), filled by a container or by the test, which writes through /proc/PID/root
// into that mount namespace. Every run that fails must leave the scratch host as it was; every container that
// started must be reported as started and get its own exit status recorded.

import { existsSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultRootfs } from '../../src/container/rootfs.js';
import { isRoot, ScratchHost, useScratchHost, type Result, type Snapshot } from '../helpers/scratch-host.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ID = /^[0-9a-f]{64}$/;

const detail = (result: Result) => `exit ${result.exitCode}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;

interface PsEntry {
  id: string;
  name: string | null;
  status: string;
  exitCode: number | null;
}

async function container(host: ScratchHost, ref: string): Promise<PsEntry | undefined> {
  const ps = await host.minictr(['ps', '-a', '--format', 'json']);
  expect(ps.exitCode, detail(ps)).toBe(0);
  return (JSON.parse(ps.stdout) as PsEntry[]).find((entry) => entry.id === ref || entry.name === ref);
}

async function waitForExit(host: ScratchHost, ref: string, timeoutMs = 10_000): Promise<PsEntry> {
  for (const end = Date.now() + timeoutMs; ; await sleep(100)) {
    const found = await container(host, ref);
    if (found?.status === 'exited') return found;
    if (Date.now() > end) throw new Error(`container ${ref} has not exited: ${JSON.stringify(found)}`);
  }
}

/** A path inside the scratch host's mount namespace, as this process can reach it. */
const inside = (host: ScratchHost, path: string) => `/proc/${host.pid}/root${path}`;

describe.skipIf(!isRoot)('writable layers in /var/lib/minictr (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost({ prime: true });
  afterEach(() => scratch.host.removeAllContainers());
  const layers = () => inside(scratch.host, '/var/lib/minictr/containers');

  it('holds the layer on disk while the container runs, and removes it at the exit of a kept container', async () => {
    const run = await scratch.host.minictr(['run', '-d', '--name', 'layered', '/bin/sh', '-c', 'echo data > /scribble; sleep 30']);
    expect(run.exitCode, detail(run)).toBe(0);
    const id = run.stdout.trim();
    for (const end = Date.now() + 5000; !existsSync(join(layers(), id, 'upper/scribble')); await sleep(50)) {
      if (Date.now() > end) throw new Error(`no ${join(layers(), id, 'upper/scribble')}`);
    }
    expect(statSync(join(layers(), id, 'work')).isDirectory()).toBe(true);
    expect(readdirSync(inside(scratch.host, `/run/minictr/containers/${id}`))).not.toContain('upper');
    const killed = await scratch.host.minictr(['kill', 'layered']);
    expect(killed.exitCode, detail(killed)).toBe(0);
    expect(await waitForExit(scratch.host, 'layered')).toMatchObject({ exitCode: 137 });
    expect(existsSync(join(layers(), id))).toBe(false);
    expect((await scratch.host.minictr(['rm', 'layered'])).exitCode).toBe(0);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  const [major = 0, minor = 0] = release().split('.').map(Number);
  it.skipIf(major * 100 + minor < 510)('mounts the layer volatile (Linux 5.10): no sync of all of /var/lib\'s file system at each exit', async () => {
    const run = await scratch.host.minictr(['run', '--rm', '--network', 'none', '/bin/sh', '-c', 'grep "^overlay / " /proc/mounts']);
    expect(run.exitCode, detail(run)).toBe(0);
    const layer = '\\/var\\/lib\\/minictr\\/containers\\/[0-9a-f]{64}';
    // Newer kernels show the option as fsync=volatile.
    expect(run.stdout).toMatch(new RegExp(`upperdir=${layer}\\/upper,workdir=${layer}\\/work,.*\\b(fsync=)?volatile\\b`));
  });

  it("gives the container's root the owner and mode of the rootfs's root, so that other users can use it", async () => {
    const run = await scratch.host.minictr(['run', '--rm', '--network', 'none', '-u', 'nobody', '/bin/sh', '-c', 'stat -c "%a %U" /']);
    expect(run.exitCode, detail(run)).toBe(0);
    const root = statSync(defaultRootfs());
    expect(run.stdout).toBe(`${(root.mode & 0o7777).toString(8)} root`);
  });

  it('removes the layer when the start fails in the container', async () => {
    const run = await scratch.host.minictr(['run', '-w', '/etc/passwd', '/bin/true']);
    expect(run.exitCode, detail(run)).toBe(125);
    expect(run.stderr).toMatch(/enter working directory \/etc\/passwd in container: Not a directory/);
    expect(await scratch.host.settle(scratch.before)).toEqual(scratch.before);
  });

  it('gc removes layers that no container accounts for, and those of exited containers', async () => {
    const kept = await scratch.host.minictr(['run', '--network', 'none', '--name', 'kept', '/bin/true']);
    expect(kept.exitCode, detail(kept)).toBe(0);
    const exitedId = (await waitForExit(scratch.host, 'kept')).id;
    const orphan = 'f'.repeat(64); // a container of before a reboot: /run was cleared, /var/lib was not
    for (const id of [orphan, exitedId]) {
      await scratch.host.must(['mkdir', '-p', `/var/lib/minictr/containers/${id}/upper/etc`, `/var/lib/minictr/containers/${id}/work/work`]);
      await scratch.host.must(['touch', `/var/lib/minictr/containers/${id}/upper/etc/passwd`]);
    }
    const gc = await scratch.host.minictr(['gc']);
    expect(gc.exitCode, detail(gc)).toBe(0);
    expect(readdirSync(layers())).toEqual([]);
    expect((await container(scratch.host, exitedId))?.status).toBe('exited');
  });

  it('system reset removes /var/lib/minictr with any debris in it', async () => {
    await scratch.host.must(['mkdir', '-p', `/var/lib/minictr/containers/${'e'.repeat(64)}/upper`]);
    const reset = await scratch.host.minictr(['system', 'reset']);
    expect(reset.exitCode, detail(reset)).toBe(0);
    expect(existsSync(inside(scratch.host, '/var/lib/minictr'))).toBe(false);
    expect(existsSync(inside(scratch.host, '/run/minictr'))).toBe(false);
  });
});

describe.skipIf(!isRoot)('log rotation: --log-opt max-size and max-file (needs root: skipped otherwise)', () => {
  const scratch = useScratchHost();
  afterEach(() => scratch.host.removeAllContainers());

  it('rotates at max-size keeping max-file files; logs reads them in order and logs -f follows every rotation', async () => {
    // 100 numbered lines of about 80 bytes in bursts of 10: about 25 per 2k file, so the log rotates 3 or 4 times
    // and keeps the last 50 to 75 lines. The pauses let a follower keep up, as one would with a real workload.
    const script = 'sleep 1; for i in $(seq 1 100); do echo "line-$i-padding-padding-padding"; [ $((i % 10)) = 0 ] && sleep 0.1; done; exit 3';
    const run = await scratch.host.minictr([
      'run', '-d', '--network', 'none', '--name', 'chatty', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', '/bin/sh', '-c', script,
    ]);
    expect(run.exitCode, detail(run)).toBe(0);
    const id = run.stdout.trim();
    const followed = await scratch.host.minictr(['logs', '-f', 'chatty']);
    expect(followed.exitCode, detail(followed)).toBe(0);
    const all = Array.from({ length: 100 }, (_, i) => `line-${i + 1}-padding-padding-padding`);
    expect(followed.stdout.split('\n')).toEqual(all);
    expect(await waitForExit(scratch.host, 'chatty')).toMatchObject({ exitCode: 3 });

    const dir = inside(scratch.host, `/run/minictr/containers/${id}`);
    const files = readdirSync(dir).filter((name) => name.startsWith('container.log')).sort();
    expect(files).toEqual(['container.log', 'container.log.1', 'container.log.2']);
    for (const file of files) expect(statSync(join(dir, file)).size).toBeLessThanOrEqual(2048);
    const logs = await scratch.host.minictr(['logs', 'chatty']);
    expect(logs.exitCode, detail(logs)).toBe(0);
    const kept = logs.stdout.split('\n');
    expect(kept.length).toBeGreaterThan(40);
    expect(kept.length).toBeLessThan(100);
    expect(kept).toEqual(all.slice(100 - kept.length));
  });

  it('records the options, 10m x 3 unless given', async () => {
    const run = await scratch.host.minictr(['run', '-d', '--network', 'none', '--log-opt', 'max-file=1', '/bin/true']);
    expect(run.exitCode, detail(run)).toBe(0);
    const inspect = await scratch.host.minictr(['inspect', run.stdout.trim()]);
    expect(JSON.parse(inspect.stdout)[0].record.log).toEqual({ maxSize: 10 * 1024 * 1024, maxFile: 1 });
  });
});

/** A tmpfs of `size` over `path` in the scratch host (made inside its mount namespace). */
async function mountSmallTmpfs(host: ScratchHost, path: string, options: string): Promise<void> {
  await host.must(['mkdir', '-p', path]);
  await host.must(['mount', '-t', 'tmpfs', '-o', `${options},mode=755`, 'tmpfs', path]);
}

/** Leaves exactly `pages` free 4 KiB pages on the tmpfs at `path` (of the scratch host), with a filler file. */
function leaveFree(host: ScratchHost, path: string, pages: number): void {
  const filler = inside(host, `${path}/filler`);
  rmSync(filler, { force: true });
  const { bavail, bsize } = statfsSync(inside(host, path));
  expect(bsize).toBe(4096);
  writeFileSync(filler, Buffer.alloc(Math.max(0, bavail - pages) * bsize));
  expect(statfsSync(inside(host, path)).bavail).toBe(Math.min(pages, bavail));
}

const OUT_OF_SPACE = /(write|append to) \/run\/minictr\/\S+: ENOSPC: no space left on device/;

describe.skipIf(!isRoot)('a full /run/minictr (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    await mountSmallTmpfs(host, '/run/minictr', 'size=1m');
    // The shared objects (bridge, nftables table, ip_forward) exist from now on.
    expect((await host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  });

  afterEach(async () => {
    rmSync(inside(host, '/run/minictr/filler'), { force: true });
    await host.removeAllContainers();
  });

  afterAll(async () => {
    await host?.dispose();
  });

  it('a detached container that fills the log: started, its exit status recorded; other runs fail naming the path and leave nothing', async () => {
    // 3 MB of output into 1 MB (well below the 10m at which the log would rotate): most of it cannot be written,
    // and is dropped while the pipes are drained.
    const run = await host.minictr([
      'run', '-d', '--network', 'none', '--name', 'hog', '/bin/sh', '-c', 'yes 0123456789abcdef | head -c 3000000; exit 3',
    ]);
    expect(run.exitCode, detail(run)).toBe(0);
    expect(run.stdout.trim()).toMatch(ID);
    expect(await waitForExit(host, 'hog')).toMatchObject({ exitCode: 3 });
    const logs = await host.minictr(['logs', 'hog']);
    expect(logs.exitCode, detail(logs)).toBe(0);
    expect(logs.stdout.split('\n').every((line) => line === '0123456789abcdef')).toBe(true);

    leaveFree(host, '/run/minictr', 0);
    const full = await host.snapshot();
    for (const args of [['--rm', '/bin/true'], ['--name', 'other', '/bin/true'], ['-d', '--name', 'other', '/bin/true']]) {
      const other = await host.minictr(['run', '--network', 'none', ...args]);
      expect(other.exitCode, detail(other)).toBe(125);
      expect(other.stderr).toMatch(/^minictr: create container state: write \/run\/minictr\/containers\/\.new-\S+\/state\.json: ENOSPC/);
      expect(await host.snapshot()).toEqual(full);
    }

    rmSync(inside(host, '/run/minictr/filler'));
    expect((await host.minictr(['rm', 'hog'])).exitCode).toBe(0);
    const after = await host.minictr(['run', '--rm', '--network', 'none', '/bin/true']);
    expect(after.exitCode, detail(after)).toBe(0);
    expect(await host.settle(before)).toEqual(before);
  });

  it('with any amount of space left: a run either fails naming the step and path, leaving nothing, or runs to its status', async () => {
    // From no free page up: the run meets the full file system at each of its writes in turn (its record, its
    // reserves, its journal, its name, its address, its port, then the writes after the start, which its reserves
    // carry).
    const failures = new Set<string>();
    let succeeded = 0;
    for (let pages = 0; pages <= 14; pages++) {
      leaveFree(host, '/run/minictr', pages);
      const full = await host.snapshot();
      const run = await host.minictr(['run', '--rm', '--name', 'tight', '-p', '8080:80', '/bin/sh', '-c', 'exit 3']);
      if (run.exitCode === 125) {
        expect(run.stderr, `${pages} pages free: ${detail(run)}`).toMatch(OUT_OF_SPACE);
        failures.add(run.stderr.replace(/\/run\/minictr\/\S+/g, 'PATH'));
        expect(await host.snapshot(), `${pages} pages free: ${detail(run)}`).toEqual(full);
      } else {
        expect(run.exitCode, `${pages} pages free: ${detail(run)}`).toBe(3);
        succeeded++;
      }
    }
    expect(succeeded).toBeGreaterThan(0);
    expect([...failures].join('\n')).toMatch(/create container state: write PATH/);
    expect([...failures].join('\n')).toMatch(/claim name tight: write PATH/);
    expect([...failures].join('\n')).toMatch(/lease an address: write PATH/);
    expect([...failures].join('\n')).toMatch(/claim host ports: write PATH/);
  });

  it('with any amount of space left: run -d either fails leaving nothing, or reports the start and records the status', async () => {
    let succeeded = 0;
    for (let pages = 0; pages <= 12; pages++) {
      leaveFree(host, '/run/minictr', pages);
      const full = await host.snapshot();
      const run = await host.minictr(['run', '-d', '--network', 'none', '--name', 'tight', '/bin/sh', '-c', 'echo started; exit 3']);
      if (run.exitCode === 125) {
        expect(run.stderr, `${pages} pages free: ${detail(run)}`).toMatch(OUT_OF_SPACE);
        expect(await host.snapshot(), `${pages} pages free: ${detail(run)}`).toEqual(full);
        continue;
      }
      expect(run.exitCode, `${pages} pages free: ${detail(run)}`).toBe(0);
      expect(await waitForExit(host, 'tight'), `${pages} pages free`).toMatchObject({ exitCode: 3 });
      expect((await host.minictr(['rm', 'tight'])).exitCode).toBe(0);
      succeeded++;
    }
    expect(succeeded).toBeGreaterThan(0);
  });
});

describe.skipIf(!isRoot)('a full /var/lib/minictr (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;

  beforeAll(async () => {
    host = await ScratchHost.create();
    await mountSmallTmpfs(host, '/var/lib/minictr', 'size=1m,nr_inodes=64');
    expect((await host.minictr(['run', '--rm', '--network', 'none', '/bin/true'])).exitCode).toBe(0);
    before = await host.settle(await host.snapshot());
  });

  afterAll(async () => {
    await host?.dispose();
  });

  it('a container that fills its writable layer gets ENOSPC itself; the runs beside it work', async () => {
    const run = await host.minictr(['run', '--rm', '--network', 'none', '/bin/sh', '-c', 'dd if=/dev/zero of=/big bs=64k count=32 || echo full']);
    expect(run.exitCode, detail(run)).toBe(0);
    expect(run.stdout).toBe('full');
    expect(run.stderr).toMatch(/No space left on device/);
    expect((await host.minictr(['run', '--rm', '--network', 'none', '/bin/true'])).exitCode).toBe(0);
    expect(await host.settle(before)).toEqual(before);
  });

  it('a layer that cannot be created fails the run naming the step and path, leaving nothing', async () => {
    // Every inode taken: the layer's directories cannot be made.
    await host.must(['sh', '-c', 'i=0; while touch /var/lib/minictr/filler-$i 2>/dev/null; do i=$((i+1)); done']);
    const full = await host.snapshot();
    const run = await host.minictr(['run', '--rm', '--network', 'none', '--name', 'nolayer', '/bin/true']);
    expect(run.exitCode, detail(run)).toBe(125);
    expect(run.stderr).toMatch(/^minictr: create writable layer \/var\/lib\/minictr\/containers\/[0-9a-f]{64}: ENOSPC/);
    expect(await host.snapshot()).toEqual(full);
    await host.must(['sh', '-c', 'rm -f /var/lib/minictr/filler-*']);
    expect(await host.settle(before)).toEqual(before);
  });
});
