import { describe, expect, it } from 'vitest';
import { encodeJoinRequest, type JoinRequest } from '../../src/container/join-request.js';
import { UsageError } from '../../src/errors.js';

const base: JoinRequest = {
  joinNetwork: true,
  cgroups: ['/sys/fs/cgroup/memory/minictr/abc'],
  workdir: '/',
  security: { privileged: false, capabilities: [0, 5, 31], user: null },
  terminal: null,
  execPath: '/bin/sh',
  argv: ['sh', '-c', 'echo a=b'],
  env: ['PATH=/bin', 'X=1=2'],
};

const entries = (request: JoinRequest) => encodeJoinRequest(request).toString().split('\0');

describe('encodeJoinRequest', () => {
  it('writes NUL-terminated key=value entries in order, repeating cgroup, arg and env', () => {
    expect(entries(base)).toEqual([
      'network=1',
      'cgroup=/sys/fs/cgroup/memory/minictr/abc/tasks',
      'workdir=/',
      'privileged=0',
      'capabilities=80000021',
      'path=/bin/sh',
      'arg=sh',
      'arg=-c',
      'arg=echo a=b',
      'env=PATH=/bin',
      'env=X=1=2',
      '', // after the last terminating NUL
    ]);
  });

  it('adds uid and gid only with a user, rows and columns only with a terminal; no network for --network host', () => {
    const request = { ...base, joinNetwork: false, cgroups: [], security: { privileged: true, capabilities: [40], user: { uid: 65534, gid: 0 } }, terminal: { rows: 50, columns: 132 } };
    expect(entries(request).slice(0, 8)).toEqual([
      'network=0', 'workdir=/', 'uid=65534', 'gid=0', 'privileged=1', 'capabilities=10000000000', 'rows=50', 'columns=132',
    ]);
  });

  it('keeps bytes as UTF-8 and refuses a NUL byte, naming the entry', () => {
    expect(encodeJoinRequest({ ...base, argv: ['é'] }).includes(Buffer.from('arg=\u00e9\0'))).toBe(true);
    expect(() => encodeJoinRequest({ ...base, env: ['A=x\0y'] })).toThrow(UsageError);
    expect(() => encodeJoinRequest({ ...base, env: ['A=x\0y'] })).toThrow(/env "A=x\\u0000y" contains a NUL byte/);
  });
});
