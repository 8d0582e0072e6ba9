// config.json → spawnOci's options (src/oci/config.ts) and linux.seccomp → classic BPF (src/oci/seccomp.ts): pure
// translations, checked here value by value. The seccomp program is also run through a small classic-BPF
// interpreter, so the test says what the kernel would decide for a call, not only which bytes it gets.

import { describe, expect, it } from 'vitest';
import { planContainer, type Spec } from '../../src/oci/config.js';
import { compileSeccomp, type SeccompProfile } from '../../src/oci/seccomp.js';
import { SYSCALLS_X86_64 } from '../../src/oci/syscalls-x86_64.js';

const AUDIT_ARCH_X86_64 = 0xc000003e;

/** Runs the program on seccomp_data {nr, arch, args}: the value of its RET. */
function runFilter(program: Buffer, nr: number, args: bigint[] = [], arch = AUDIT_ARCH_X86_64): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  args.forEach((arg, i) => data.writeBigUInt64LE(arg, 16 + 8 * i));
  let a = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) a = data.readUInt32LE(k);
    else if (code === 0x54) a = (a & k) >>> 0;
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += a === k ? jt : jf;
    else if (code === 0x25) pc += a > k ? jt : jf;
    else if (code === 0x35) pc += a >= k ? jt : jf;
    else throw new Error(`opcode ${code}`);
  }
  throw new Error('fell off the end');
}

const ALLOW = 0x7fff0000;
const errno = (n: number) => 0x00050000 | n;

describe('linux.seccomp compiled to BPF', () => {
  const profile: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    syscalls: [
      { names: ['read', 'write', 'nonexistent_call'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    ],
  };
  const program = compileSeccomp(profile);

  it('allows the listed calls and gives the rest the default action', () => {
    expect(runFilter(program, SYSCALLS_X86_64.read!)).toBe(ALLOW);
    expect(runFilter(program, SYSCALLS_X86_64.getpid!)).toBe(errno(38));
    expect(runFilter(program, SYSCALLS_X86_64.mkdir!)).toBe(errno(13));
  });

  it('tests arguments on all 64 bits', () => {
    expect(runFilter(program, SYSCALLS_X86_64.personality!, [8n])).toBe(ALLOW);
    expect(runFilter(program, SYSCALLS_X86_64.personality!, [8n + (1n << 32n)])).toBe(errno(38));
    expect(runFilter(program, SYSCALLS_X86_64.clone!, [0x11n])).toBe(ALLOW);
    expect(runFilter(program, SYSCALLS_X86_64.clone!, [0x20000000n])).toBe(errno(38)); // CLONE_NEWPID
    expect(runFilter(program, SYSCALLS_X86_64.socket!, [2n])).toBe(ALLOW);
    expect(runFilter(program, SYSCALLS_X86_64.socket!, [40n])).toBe(errno(38)); // AF_VSOCK
  });

  it('gives a foreign architecture the default action', () => {
    expect(runFilter(program, SYSCALLS_X86_64.read!, [], 0x40000003)).toBe(errno(38));
  });

  it('refuses an action it cannot honour, naming it', () => {
    expect(() => compileSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' })).toThrow(/defaultAction: seccomp action "SCMP_ACT_NOTIFY"/);
  });
});

describe('config.json → spawnOci options', () => {
  const base: Spec = {
    ociVersion: '1.0.2',
    process: { args: ['/bin/sh'], cwd: '/', rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 2 ** 64 - 1 }] },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'ro', 'rw'] },
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro', 'rslave', 'size=1'] },
    ],
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }] },
  };

  it('maps mount options to flags, propagation and data, binds relative to the bundle', () => {
    const { options } = planContainer(base, '/b', true);
    expect(options.mounts).toEqual([
      { source: 'proc', target: '/proc', type: 'proc', flags: 2, propagation: 0, data: '' },
      { source: '/b/data', target: '/data', type: 'bind', flags: 4096 | 16384 | 1, propagation: (1 << 19) | 16384, data: 'size=1' },
    ]);
    expect(options.root).toBe('/b/rootfs');
  });

  it('makes new namespaces or joins them by path; RLIM_INFINITY is marked', () => {
    const { options } = planContainer(base, '/b', true);
    expect(options.cloneFlags).toBe(0x00020000 | 0x20000000);
    expect(options.join).toEqual([{ type: 0x40000000, path: '/proc/1/ns/net' }]);
    expect(options.rlimits).toEqual([{ resource: 7, soft: 10, hard: Number.MAX_SAFE_INTEGER }]);
    const joined = planContainer({ ...base, linux: { namespaces: [{ type: 'mount', path: '/proc/9/ns/mnt' }] } }, '/b', true);
    expect(joined.options.join).toEqual([{ type: 0x00020000, path: '/proc/9/ns/mnt' }]);
    expect(joined.options.cloneFlags).toBe(0);
  });

  it('a new user namespace: its maps as uid_map lines, device nodes bound from the host, a FIFO still made', () => {
    const linux: Spec['linux'] = {
      namespaces: [{ type: 'mount' }, { type: 'user' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 1 }, { containerID: 5, hostID: 100005, size: 1 }],
      devices: [{ path: '/dev/fifo', type: 'p' }],
    };
    const plan = planContainer({ ...base, mounts: [], linux }, '/b', true);
    expect(plan.options.cloneFlags).toBe(0x00020000 | 0x10000000);
    expect(plan.idMappings).toEqual({ uid: '0 100000 65536\n', gid: '0 100000 1\n5 100005 1\n' });
    expect(plan.options.devices).toEqual([{ path: '/dev/fifo', type: 'p', major: 0, minor: 0, mode: 0o666 }]);
    expect(plan.options.mounts[0]).toEqual({ source: '/dev/null', target: '/dev/null', type: 'bind', flags: 4096, propagation: 0, data: '' });
    expect(plan.options.mounts).toHaveLength(6);
    expect(plan.options.devLinks).toBe(true);
    expect(planContainer(base, '/b', true).idMappings).toBeNull();
  });

  it('refuses a config without its own mount namespace, a user namespace without maps, a bad version', () => {
    expect(() => planContainer({ ...base, linux: { namespaces: [{ type: 'pid' }] } }, '/b', true)).toThrow(/a "mount" namespace, new or joined by path, is required/);
    expect(() => planContainer({ ...base, linux: { namespaces: [{ type: 'mount' }, { type: 'user' }] } }, '/b', true)).toThrow(/linux.uidMappings: a new user namespace needs mappings/);
    const badSize = { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1, size: 0 }], gidMappings: [] };
    expect(() => planContainer({ ...base, linux: badSize }, '/b', true)).toThrow(/linux.uidMappings\[0\].size: must be at least 1/);
  });
});
