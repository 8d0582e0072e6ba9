// The request that `minictr exec`'s joiner, minictr-init in join mode (native/src/join.cc), reads: what the process
// it starts in a running container is and does. It travels over a pipe, never in argv or an environment, which the
// container could read (/proc/PID/cmdline, /proc/PID/environ). The format is NUL-terminated "key=value" entries, in
// this order; cgroup, arg and env repeat, uid and gid only with --user, rows and columns only with -t:
//
//   network=0|1  cgroup=TASKS-FILE  workdir=DIR  uid=N  gid=N  privileged=0|1  capabilities=HEX  rows=N  columns=N
//   path=FILE  arg=ARG  env=KEY=VALUE  [detach=1]

import { UsageError } from '../errors.js';
import { tasksFile } from './cgroups.js';
import type { SpawnOptions, TerminalSize } from '../native/index.js';
import { encodeBytes } from '../sys/bytes.js';

export interface JoinRequest {
  /** false when the container shares the host's network namespace (--network host). */
  joinNetwork: boolean;
  /** cgroup v1: the container's cgroup directories, whose `tasks` files the joiner writes "0" into before it clones the process (v2: none, the joiner is cloned into the cgroup). */
  cgroups: readonly string[];
  workdir: string;
  security: Pick<SpawnOptions['security'], 'privileged' | 'capabilities' | 'user'>;
  /** -t: the size of the pseudo-terminal the process opens in the container; null: no terminal. */
  terminal: TerminalSize | null;
  /** Path of the program inside the container's root, already resolved against PATH. */
  execPath: string;
  argv: readonly string[];
  env: readonly string[];
  /** minictr-oci exec --detach: the process keeps running when minictr exits (no parent-death signal). */
  detach?: boolean;
}

type Entry = [key: string, value: string];

/** The request's bytes. A value holding a NUL byte, which would cut it short, is refused. */
export function encodeJoinRequest(request: JoinRequest): Buffer {
  const { security, terminal } = request;
  const mask = security.capabilities.reduce((bits, cap) => bits | (1n << BigInt(cap)), 0n);
  const user: Entry[] = security.user === null ? [] : [['uid', String(security.user.uid)], ['gid', String(security.user.gid)]];
  const size: Entry[] = terminal === null ? [] : [['rows', String(terminal.rows)], ['columns', String(terminal.columns)]];
  const entries: Entry[] = [
    ['network', request.joinNetwork ? '1' : '0'],
    ...request.cgroups.map((dir): Entry => ['cgroup', tasksFile(dir)]),
    ['workdir', request.workdir],
    ...user,
    ['privileged', security.privileged ? '1' : '0'],
    ['capabilities', mask.toString(16)],
    ...size,
    ['path', request.execPath],
    ...request.argv.map((arg): Entry => ['arg', arg]),
    ...request.env.map((entry): Entry => ['env', entry]),
    ...(request.detach === true ? [['detach', '1'] as Entry] : []),
  ];
  const bad = entries.find(([, value]) => value.includes('\0'));
  if (bad !== undefined) throw new UsageError(`exec: ${bad[0]} ${JSON.stringify(bad[1])} contains a NUL byte`);
  // encodeBytes: arguments and environment carry the bytes Node could not decode as they were (sys/bytes.ts).
  return Buffer.concat(entries.map(([key, value]) => Buffer.concat([Buffer.from(`${key}=`), encodeBytes(value), Buffer.of(0)])));
}
