// The registry files behind leases, names and ports (src/sys/exclusive-file.ts), on a real directory: one owner per
// name, removal only by the owner, and removers of one directory taking turns through a real flock held by another
// process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createExclusive, ownerOf, removeIfOwned } from '../../src/sys/exclusive-file.js';

const ADDON = fileURLToPath(new URL('../../native/build/Release/minictr.node', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function registry(): string {
  const dir = mkdtempSync(join(tmpdir(), 'minictr-registry-'));
  dirs.push(dir);
  return dir;
}

describe('exclusive files', () => {
  it('give a name to one owner at a time, and only that owner removes it', () => {
    const path = join(registry(), '10.0.0.2');
    expect(createExclusive(path, 'a')).toBe(true);
    expect(createExclusive(path, 'b')).toBe(false);
    removeIfOwned(path, 'b');
    expect(ownerOf(path)).toBe('a');
    removeIfOwned(path, 'a');
    expect(existsSync(path)).toBe(false);
    expect(createExclusive(path, 'b')).toBe(true);
  });

  it('make a remover wait while another process holds the directory', async () => {
    const dir = registry();
    const path = join(dir, 'web');
    createExclusive(path, 'a');
    // Another process takes the directory's lock, says so, and lets go 300 ms later.
    const holder = spawn(process.execPath, [
      '-e',
      `const fd = require(${JSON.stringify(ADDON)}).lockDirectory(${JSON.stringify(dir)});` +
        "console.log('locked'); setTimeout(() => require('fs').closeSync(fd), 300); setTimeout(() => {}, 1000);",
    ]);
    await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
    const started = Date.now();
    removeIfOwned(path, 'a'); // blocks until the holder lets go
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(existsSync(path)).toBe(false);
    holder.kill();
  });
});
