import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tearDown } from '../../src/container/journal.js';
import { DEFAULT_LOG_OPTIONS } from '../../src/container/log-options.js';
import {
  collectingDir,
  containerDirExists,
  ContainerState,
  listContainerDirs,
  phaseOf,
  type ContainerRecord,
} from '../../src/container/state.js';
import { statePaths, type StatePaths } from '../../src/paths.js';
import { selfRef, type ProcessRef } from '../../src/sys/proc.js';

// The state layer in a temporary directory: the phase of each kind of container directory, and the one teardown.

const DEAD: ProcessRef = { pid: 0x3fffffff, startTime: 1 };

function record(id: string, owner: ProcessRef | null, changes: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    name: null,
    owner,
    createdAt: '2026-01-01T00:00:00Z',
    argv: ['/bin/true'],
    network: 'none',
    config: { rootfs: '/', hostname: 'h', env: [], workdir: '/', security: { privileged: false, capabilities: [], readOnly: false, user: null } },
    detached: false,
    autoRemove: false,
    log: DEFAULT_LOG_OPTIONS,
    status: 'created',
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    ...changes,
  };
}

describe('container state under a root directory', () => {
  let root: string;
  let paths: StatePaths;
  const id = (n: number) => String(n).repeat(64).slice(0, 64);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'minictr-state-'));
    paths = statePaths(join(root, 'run'), join(root, 'lib'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const phaseNamed = (wanted: string) => {
    const entry = listContainerDirs(paths).find((candidate) => candidate.id === wanted);
    return entry === undefined ? null : phaseOf(entry);
  };

  it('places every directory under the roots it is given', () => {
    const state = ContainerState.create(record(id(1), selfRef()), paths);
    expect(state.dir).toBe(join(root, 'run', 'containers', id(1)));
    expect(state.layerDir).toBe(join(root, 'lib', 'containers', id(1)));
    expect(readdirSync(join(root, 'run')).sort()).toEqual(['containers', 'leases', 'names', 'ports']);
    expect(containerDirExists(id(1), paths)).toBe(true);
    expect(containerDirExists(id(2), paths)).toBe(false);
  });

  it('names the phase of each directory and who is responsible for it', () => {
    const self = selfRef();
    ContainerState.create(record(id(1), self), paths);
    ContainerState.create(record(id(2), self, { status: 'running' }), paths);
    ContainerState.create(record(id(3), DEAD, { status: 'running' }), paths);
    ContainerState.create(record(id(4), self), paths).update({ status: 'exited', owner: null });
    const collected = ContainerState.create(record(id(5), DEAD, { status: 'running' }), paths);
    renameSync(collected.dir, collectingDir(id(5), self, paths));
    mkdirSync(join(paths.containers, `.rm-${DEAD.pid}-${DEAD.startTime}-${id(6)}`));
    mkdirSync(join(paths.containers, `.new-${self.pid}-${self.startTime}-${id(7)}`));

    expect(phaseNamed(id(1))).toEqual({ name: 'building', responsible: self, garbage: false });
    expect(phaseNamed(id(2))).toEqual({ name: 'running', responsible: self, garbage: false });
    expect(phaseNamed(id(3))).toEqual({ name: 'orphaned', responsible: null, garbage: true });
    expect(phaseNamed(id(4))).toEqual({ name: 'exited', responsible: null, garbage: false });
    expect(phaseNamed(id(5))).toEqual({ name: 'collecting', responsible: self, garbage: false });
    expect(phaseNamed(id(6))).toEqual({ name: 'removing', responsible: null, garbage: true });
    expect(phaseNamed(id(7))).toEqual({ name: 'building', responsible: self, garbage: false });
    // A removal whose remover died no longer stands for its container; a half-built one does.
    expect(containerDirExists(id(6), paths)).toBe(false);
    expect(containerDirExists(id(7), paths)).toBe(true);
  });

  it('tears down from the journal: a kept container keeps its name and nothing else', async () => {
    const state = ContainerState.create(record(id(1), selfRef(), { status: 'running' }), paths);
    state.journal({ kind: 'layer', dir: state.layerDir });
    state.createLayer(root);
    state.journal({ kind: 'name', name: 'web' });
    expect(await tearDown(state, { keep: true })).toEqual([]);
    expect(state.entries()).toEqual([{ kind: 'name', name: 'web' }]);
    expect(state.record()).toMatchObject({ status: 'exited', owner: null, exitCode: 137 });
    expect(existsSync(state.layerDir)).toBe(false);
    expect(phaseNamed(id(1))?.name).toBe('exited');
  });

  it('goes on past a failed undo, releases nothing after it, and keeps the whole journal for gc', async () => {
    const state = ContainerState.create(record(id(1), selfRef()), paths);
    state.journal({ kind: 'name', name: 'web' });
    state.journal({ kind: 'layer', dir: join(root, 'not-this-containers') });
    const errors = await tearDown(state, { keep: false });
    expect(errors.map((error) => error.message)).toEqual([
      `remove writable layer ${join(root, 'not-this-containers')}: ${join(root, 'not-this-containers')} is not the writable layer of ${id(1)}`,
      'release name web: skipped after the failures above, kept for minictr gc',
    ]);
    expect(existsSync(state.dir)).toBe(true);
    expect(state.entries()).toHaveLength(2);
  });

  it('removes a container that is not kept', async () => {
    const state = ContainerState.create(record(id(1), selfRef()), paths);
    expect(await tearDown(state, { keep: false })).toEqual([]);
    expect(readdirSync(paths.containers)).toEqual([]);
  });
});
