// `minictr-oci exec`: a process in a running container, through `minictr exec`'s joiner (native/src/join.cc): the
// container's namespaces, root and cgroups, the process from --process FILE (the spec's process object, as
// containerd writes it) or from the command line. Without --detach the CLI waits and exits with its status; with
// it, the CLI returns once the process has exec'd and the process outlives it. With --tty the process's terminal
// is its stdio and the controller goes to --console-socket.

import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { CAPABILITIES } from '../container/capabilities.js';
import { execCgroups, spawnWithCgroup } from '../container/cgroups.js';
import { encodeJoinRequest } from '../container/join-request.js';
import { MinictrError } from '../errors.js';
import { helperPath, nativeAddon, type ExitStatus } from '../native/index.js';
import { execPath } from './config.js';
import { statusOf, readRecord } from './state.js';

export interface ExecOptions {
  processFile?: string;
  args: string[];
  env: string[];
  cwd?: string;
  user?: string;
  detach: boolean;
  pidFile?: string;
  tty: boolean;
  consoleSocket?: string;
}

interface ProcessSpec {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  capabilities?: { bounding?: string[] };
}

function processOf(options: ExecOptions): ProcessSpec {
  if (options.processFile !== undefined) return JSON.parse(readFileSync(options.processFile, 'utf8')) as ProcessSpec;
  const [uid, gid] = (options.user ?? '0:0').split(':').map(Number);
  return { args: options.args, env: options.env, cwd: options.cwd, user: { uid: uid ?? 0, gid: gid ?? uid ?? 0 }, terminal: options.tty };
}

export async function execProcess(root: string, id: string, options: ExecOptions): Promise<number> {
  // 1. A running container and the process to start in it.
  const record = readRecord(root, id);
  if (statusOf(root, record) !== 'running') throw new MinictrError(`container "${id}" is not running`);
  // The joiner (join.cc) does not enter a user namespace: a process it started there would be the host's root
  // among the container's unprivileged ones. Refused until it does.
  if (readlinkSync(`/proc/${record.pid}/ns/user`) !== readlinkSync('/proc/self/ns/user')) {
    throw new MinictrError(`exec in container "${id}": the container has its own user namespace, which exec does not join yet`);
  }
  const spec = processOf(options);
  if (!Array.isArray(spec.args) || spec.args.length === 0) throw new MinictrError('exec: no command given (args)');
  // A terminal goes to the caller's console socket (its controller sent with SCM_RIGHTS, as for create).
  const terminal = spec.terminal === true;
  if (terminal && options.consoleSocket === undefined) throw new MinictrError('exec: a terminal (--tty, process.terminal) needs --console-socket');
  const env = spec.env ?? [];
  const path = execPath(`/proc/${record.pid}/root`, spec.args, env);
  const capabilities = (spec.capabilities?.bounding ?? []).flatMap((name) => {
    const number = CAPABILITIES[name.replace(/^CAP_/, '')];
    return number === undefined ? [] : [number];
  });

  // 2. The joiner clones it in the container (and its cgroups); released, it execs.
  const addon = nativeAddon();
  const joining = execCgroups(record.cgroups);
  const request = encodeJoinRequest({
    joinNetwork: true,
    cgroups: joining.requested,
    workdir: spec.cwd ?? '/',
    security: { privileged: false, capabilities, user: spec.user ?? null },
    // A size of 0 (or none) is the join mode's default, 24x80: it refuses 0.
    terminal: terminal ? { rows: spec.consoleSize?.height || 24, columns: spec.consoleSize?.width || 80 } : null,
    execPath: path,
    argv: spec.args,
    env,
    detach: options.detach,
  });
  const child = spawnWithCgroup(joining.open, (cgroup) =>
    addon.spawnExec({
      pid: record.pid,
      startTime: record.startTime,
      helper: helperPath('minictr-init'),
      terminal,
      consoleSocket: options.consoleSocket,
      stdio: [-1, -1, -1],
      request,
      cgroup,
    }),
  );
  const failure = await addon.release(child.releaseFd, child.errorFd);
  if (failure !== null) throw new MinictrError(`exec in container "${id}": ${failure.step}: ${failure.message}`);
  if (options.pidFile !== undefined) writeFileSync(options.pidFile, String(child.pid));
  if (options.detach) return 0;

  // 3. Wait: its status is the CLI's (128 + N for signal N).
  const status = await new Promise<ExitStatus>((resolve) => addon.watchExit(child.pidfd, resolve));
  return status.signal !== null ? 128 + status.signal : status.exitCode ?? 1;
}
