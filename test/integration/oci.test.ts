// minictr-oci driven as containerd and runtime-tools drive runc: a real bundle (the busybox rootfs and a
// config.json), create → state "created" → start → the program's output → state "stopped" → delete, plus kill,
// exec, hooks with the state on stdin, bad config and the JSON error log. Everything runs in a scratch host, whose
// mounts and state directory must be as before afterwards.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSYBOX_ROOTFS } from '../helpers/registry.js';
import { isRoot, ScratchHost, type Result, type Snapshot } from '../helpers/scratch-host.js';

const OCI = fileURLToPath(new URL('../../dist/oci/cli.js', import.meta.url));

function spec(args: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: { args, env: ['PATH=/bin:/usr/bin:/sbin'], cwd: '/', capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] } },
    root: { path: BUSYBOX_ROOTFS, readonly: true },
    hostname: 'ocibox',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }], maskedPaths: ['/proc/cpuinfo'] },
    ...extra,
  };
}

describe.skipIf(!isRoot)('minictr-oci (needs root: skipped otherwise)', () => {
  let host: ScratchHost;
  let before: Snapshot;
  let bundle: string;
  const root = '/run/minictr-oci-test';

  const oci = (args: string[]): Promise<Result> =>
    host.exec([process.execPath, OCI, '--root', root, ...args], { timeout: 20_000, reject: false }) as Promise<Result>;
  /** create, as containerd runs it: the container inherits the CLI's stdio, here a file (a pipe would stay open). */
  const create = async (args: string[]): Promise<Result & { output: string }> => {
    const output = join(bundle, 'output');
    const redirect = 'exec "$@" >"$0" 2>&1 </dev/null';
    const result = (await host.exec(['/bin/sh', '-c', redirect, output, process.execPath, OCI, '--root', root, 'create', '--bundle', bundle, ...args], {
      timeout: 20_000, reject: false,
    })) as Result;
    return { ...result, output: readFileSync(output, 'utf8') };
  };
  const output = (): string => readFileSync(join(bundle, 'output'), 'utf8');
  const state = async (id: string): Promise<{ status: string; pid: number }> => JSON.parse((await oci(['state', id])).stdout);
  const writeSpec = (value: Record<string, unknown>) => writeFileSync(join(bundle, 'config.json'), JSON.stringify(value));

  beforeAll(async () => {
    host = await ScratchHost.create();
    before = await host.snapshot();
    bundle = mkdtempSync(join(tmpdir(), 'oci-bundle-'));
  });

  afterAll(async () => {
    rmSync(bundle, { recursive: true, force: true });
    await host?.dispose();
  });

  it('create waits before the program; start runs it with the config applied; delete removes the state', async () => {
    writeSpec(spec(['/bin/sh', '-c', 'hostname; grep CapEff /proc/self/status; touch /x 2>&1; cat /proc/cpuinfo | wc -c']));
    const created = await create(['--pid-file', join(bundle, 'pid'), 'c1']);
    expect(created.exitCode, created.output).toBe(0);
    const first = await state('c1');
    expect(first.status).toBe('created');
    expect(Number(readFileSync(join(bundle, 'pid'), 'utf8'))).toBe(first.pid);
    const started = await oci(['start', 'c1']);
    expect(started.exitCode, started.stderr).toBe(0);
    for (let i = 0; i < 100 && (await state('c1')).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await state('c1')).status).toBe('stopped');
    expect(output().split('\n')).toEqual(['ocibox', 'CapEff:\t0000000000000020', 'touch: /x: Read-only file system', '0', '']);
    expect((await oci(['delete', 'c1'])).exitCode).toBe(0);
    expect((await oci(['state', 'c1'])).exitCode).toBe(1);
  });

  it('kill by name and number, delete refuses a running container without --force, exec joins it', async () => {
    writeSpec(spec(['/bin/sleep', '1000']));
    expect((await create(['c2'])).exitCode).toBe(0);
    expect((await oci(['start', 'c2'])).exitCode).toBe(0);
    expect((await state('c2')).status).toBe('running');
    const exec = await oci(['exec', 'c2', '/bin/hostname']);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(exec.stdout.trim()).toBe('ocibox');
    const refused = await oci(['delete', 'c2']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/is running/);
    expect((await oci(['kill', 'c2', 'KILL'])).exitCode).toBe(0);
    for (let i = 0; i < 100 && (await state('c2')).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await state('c2')).status).toBe('stopped');
    expect((await oci(['delete', 'c2'])).exitCode).toBe(0);
  });

  it('hooks get the state on stdin; a bad config is refused in the JSON log and leaves nothing', async () => {
    const seen = join(bundle, 'hook-state');
    writeSpec(spec(['/bin/true'], { hooks: { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${seen}`] }] } }));
    expect((await create(['c3'])).exitCode).toBe(0);
    expect(JSON.parse(readFileSync(seen, 'utf8'))).toMatchObject({ id: 'c3', status: 'created', bundle });
    expect((await oci(['delete', '--force', 'c3'])).exitCode).toBe(0);

    const log = join(bundle, 'log.json');
    writeSpec(spec(['/bin/true'], { linux: { namespaces: [{ type: 'pid' }] } }));
    const bad = await oci(['--log', log, '--log-format', 'json', 'create', '--bundle', bundle, 'c4']);
    expect(bad.stderr).toMatch(/config.json: linux.namespaces: a "mount" namespace, new or joined by path, is required/);
    expect(bad.exitCode).toBe(1);
    const entry = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').pop()!);
    expect(entry).toMatchObject({ level: 'error', msg: expect.stringMatching(/"mount" namespace, new or joined by path, is required/) });
    expect((await oci(['state', 'c4'])).exitCode).toBe(1);
    expect(await host.snapshot()).toEqual(before);
  });

  it('linux.devices makes a FIFO (type p) beside character devices', async () => {
    writeSpec(spec(['/bin/sh', '-c', 'stat -c "%A %t:%T" /dev/fifo0 /dev/zero2'], {
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }],
        devices: [{ path: '/dev/fifo0', type: 'p', fileMode: 0o640 }, { path: '/dev/zero2', type: 'c', major: 1, minor: 5, fileMode: 0o600 }],
      },
    }));
    const created = await create(['c5']);
    expect(created.exitCode, created.output).toBe(0);
    expect((await oci(['start', 'c5'])).exitCode).toBe(0);
    for (let i = 0; i < 100 && (await state('c5')).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(output().split('\n')).toEqual(['prw-r----- 0:0', 'crw------- 1:5', '']);
    expect((await oci(['delete', 'c5'])).exitCode).toBe(0);
  });

  it('a user namespace: the maps written before the release, the container root is the mapped id on the host', async () => {
    writeSpec(spec(['/bin/sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map; id -u; stat -c "%t:%T" /dev/null; exec sleep 100'], {
      root: { path: BUSYBOX_ROOTFS, readonly: false },
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }, { type: 'user' }],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    }));
    const created = await create(['c6']);
    expect(created.exitCode, created.output).toBe(0);
    const { pid } = await state('c6');
    const status = (await host.exec(['cat', `/proc/${pid}/status`])).stdout;
    expect(status).toMatch(/^Uid:\t100000\t100000\t100000\t100000$/m);
    expect(status).toMatch(/^Gid:\t100000\t100000\t100000\t100000$/m);
    expect((await oci(['start', 'c6'])).exitCode).toBe(0);
    for (let i = 0; i < 100 && output().split('\n').length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    expect(output().split('\n').map((line) => line.trim().replace(/ +/g, ' '))).toEqual(['0 100000 65536', '0 100000 65536', '0', '1:3', '']);
    const exec = await oci(['exec', 'c6', '/bin/true']);
    expect(exec.exitCode).toBe(1);
    expect(exec.stderr).toMatch(/has its own user namespace, which exec does not join yet/);
    expect((await oci(['delete', '--force', 'c6'])).exitCode).toBe(0);
    expect(await host.snapshot()).toEqual(before);
  });

  it('joins a mount namespace by path, but never the caller\'s own', async () => {
    const namespaces = (mnt: string) => [{ type: 'pid' }, { type: 'mount', path: mnt }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }];
    writeSpec(spec(['/bin/true'], { linux: { namespaces: namespaces(`/proc/${host.pid}/ns/mnt`) } }));
    const refused = await create(['c7']);
    expect(refused.exitCode).toBe(1);
    expect(refused.output).toMatch(/join a mount namespace \(it is minictr-oci's own or pid 1's/);
    expect((await oci(['state', 'c7'])).exitCode).toBe(1);

    const holder = host.exec(['unshare', '--mount', '--propagation', 'private', '--fork', '--kill-child', 'sleep', '100']);
    try {
      const inode = (pid: number | string) => host.must(['readlink', `/proc/${pid}/ns/mnt`]);
      const own = await inode(host.pid);
      for (let i = 0; i < 100 && (await inode(holder.pid!)) === own; i++) await new Promise((r) => setTimeout(r, 20));
      const joined = await inode(holder.pid!);
      expect(joined).not.toBe(own);
      writeSpec(spec(['/bin/readlink', '/proc/self/ns/mnt'], { linux: { namespaces: namespaces(`/proc/${holder.pid}/ns/mnt`) } }));
      const created = await create(['c8']);
      expect(created.exitCode, created.output).toBe(0);
      expect((await oci(['start', 'c8'])).exitCode).toBe(0);
      for (let i = 0; i < 100 && (await state('c8')).status !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 50));
      expect(output().trim()).toBe(joined.trim());
      expect((await oci(['delete', 'c8'])).exitCode).toBe(0);
    } finally {
      holder.kill('SIGKILL');
      await holder;
    }
  });

  it('exec --tty sends the terminal\'s controller to --console-socket; the process\'s stdio is the terminal', async () => {
    // The caller's side, as runc's recvtty: accept one connection, take the descriptor, copy the terminal's output.
    const receiver = [
      'import os, socket, sys',
      'server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      'server.bind(sys.argv[1]); server.listen(1)',
      'connection, _ = server.accept()',
      '_, fds, _, _ = socket.recv_fds(connection, 16, 1)',
      'while True:',
      '    try: data = os.read(fds[0], 4096)',
      '    except OSError: break',
      '    if not data: break',
      '    sys.stdout.write(data.decode())',
    ].join('\n');
    const socketPath = join(bundle, 'console.sock');
    const withPts = spec(['/bin/sleep', '1000']);
    withPts.mounts = [...(withPts.mounts as object[]), { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666'] }];
    writeSpec(withPts);
    expect((await create(['c9'])).exitCode).toBe(0);
    expect((await oci(['start', 'c9'])).exitCode).toBe(0);
    const console = host.exec(['python3', '-c', receiver, socketPath], { timeout: 20_000 });
    try {
      for (let i = 0; i < 100 && !existsSync(socketPath); i++) await new Promise((r) => setTimeout(r, 20));
      const exec = await oci(['exec', '--tty', '--console-socket', socketPath, 'c9', '/bin/sh', '-c', 'tty; echo hello; exit 3']);
      expect(exec.exitCode, exec.stderr).toBe(3);
      const received = await console;
      expect(String(received.stdout).trim().split('\r\n')).toEqual(['/dev/pts/0', 'hello']);
      const refused = await oci(['exec', '--tty', 'c9', '/bin/true']);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/needs --console-socket/);
    } finally {
      console.kill('SIGKILL');
      await console;
      expect((await oci(['delete', '--force', 'c9'])).exitCode).toBe(0);
    }
  });

  it('--version prints three lines, as runc does', async () => {
    const version = await oci(['--version']);
    expect(version.stdout.trim().split('\n')).toHaveLength(3);
  });
});
