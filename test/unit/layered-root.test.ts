// overlayfs's lookup rules, on real directories: whiteouts are real 0/0 character devices (made with Python's
// os.mknod, as root), opaque directories are named to the lookup (reading their xattr is the addon's job).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInLayers } from '../../src/container/layered-root.js';

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)('resolveInLayers (needs root for whiteouts: skipped otherwise)', () => {
  let base = '';
  let upper = '';
  let middle = '';
  let lower = '';
  const opaque = new Set<string>();
  const file = (layer: string, path: string, content = path) => {
    mkdirSync(join(layer, path, '..'), { recursive: true });
    writeFileSync(join(layer, path), content);
  };
  const whiteout = (layer: string, path: string) => {
    mkdirSync(join(layer, path, '..'), { recursive: true });
    execFileSync('python3', ['-c', 'import os,stat,sys; os.mknod(sys.argv[1], stat.S_IFCHR | 0o600, os.makedev(0, 0))', join(layer, path)]);
  };
  const resolve = (path: string) => resolveInLayers([upper, middle, lower], path, (p) => opaque.has(p));

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'minictr-layers-'));
    [upper, middle, lower] = ['upper', 'middle', 'lower'].map((name) => join(base, name));
    file(lower, 'bin/sh');
    file(lower, 'bin/gone');
    file(lower, 'etc/passwd', 'lower');
    file(lower, 'etc/group');
    file(lower, 'opt/app/old');
    file(lower, 'usr/bin/tool');
    file(middle, 'etc/passwd', 'middle');
    file(middle, 'opt/app/new');
    whiteout(middle, 'bin/gone');
    mkdirSync(join(middle, 'opt/app'), { recursive: true });
    opaque.add(join(middle, 'opt/app'));
    file(upper, 'srv/data');
    symlinkSync('/usr/bin', join(upper, 'sbin'));
    symlinkSync('../../etc/passwd', join(upper, 'srv/pw'));
    mkdirSync(join(upper, 'var'), { recursive: true });
    whiteout(upper, 'etc/group');
    file(upper, 'home');
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('finds each file in the topmost layer that has it', () => {
    expect(resolve('/bin/sh')).toBe(join(lower, 'bin/sh'));
    expect(resolve('/etc/passwd')).toBe(join(middle, 'etc/passwd'));
    expect(resolve('/srv/data')).toBe(join(upper, 'srv/data'));
  });

  it('a whiteout hides the name in every layer below', () => {
    expect(resolve('/bin/gone')).toBeNull();
    expect(resolve('/etc/group')).toBeNull();
  });

  it('an opaque directory hides the content of the same directory below it', () => {
    expect(resolve('/opt/app/new')).toBe(join(middle, 'opt/app/new'));
    expect(resolve('/opt/app/old')).toBeNull();
  });

  it('follows symlinks in the merged view, never above the root', () => {
    expect(resolve('/sbin/tool')).toBe(join(lower, 'usr/bin/tool'));
    expect(resolve('/srv/pw')).toBe(join(middle, 'etc/passwd'));
    expect(resolve('/../../../etc/passwd')).toBe(join(middle, 'etc/passwd'));
  });

  it('a file is not a directory; missing is missing', () => {
    expect(resolve('/home/user')).toBeNull();
    expect(resolve('/nope')).toBeNull();
    expect(resolve('/')).toBe(upper);
  });
});
