import { describe, expect, it } from 'vitest';
import { resolveContainer, type ContainerInfo } from '../../src/container/lookup.js';

const container = (id: string, name: string | null): ContainerInfo => ({
  id, name, argv: ['/bin/true'], image: null, rootfs: '/rootfs', createdAt: '2026-01-01T00:00:00Z', process: null, address: null, veth: null, ports: [],
  owner: { pid: 1, startTime: 1 }, status: 'running', detached: false, exitCode: null, startedAt: null, finishedAt: null,
  dir: `/run/minictr/containers/${id}`,
});
const all = [container('abc123'.padEnd(64, '0'), 'web'), container('abd456'.padEnd(64, '0'), null)];

describe('resolveContainer', () => {
  it('finds by full id, by name, and by a unique prefix', () => {
    expect(resolveContainer(all[0]!.id, all).name).toBe('web');
    expect(resolveContainer('web', all).id).toBe(all[0]!.id);
    expect(resolveContainer('abd', all).id).toBe(all[1]!.id);
  });

  it('refuses an ambiguous prefix and an unknown name, as Docker does', () => {
    expect(() => resolveContainer('ab', all)).toThrow('multiple containers match "ab": abc123000000, abd456000000');
    expect(() => resolveContainer('nope', all)).toThrow(expect.objectContaining({ kind: 'lookup', message: 'No such container: nope' }));
    expect(() => resolveContainer('', all)).toThrow(/No such container/);
  });
});
