// A file that only one process can create: open(O_CREAT | O_EXCL) is atomic in the kernel, which makes a directory
// of such files a lock-free registry (address leases, container names). Each file holds its owner's id.

import { closeSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Creates `path` holding `owner`; false when it already exists. */
export function createExclusive(path: string, owner: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw cause;
  }
  try {
    writeSync(fd, `${owner}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The owner written in `path`, or null when it does not exist. */
export function ownerOf(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Removes `path` if `owner` holds it; missing counts as removed. */
export function removeIfOwned(path: string, owner: string): void {
  if (ownerOf(path) === owner) rmSync(path, { force: true });
}

/** Every file of a registry directory as [name, owner]; an absent directory is empty. */
export function listOwned(dir: string): [string, string][] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((name) => [name, ownerOf(join(dir, name)) ?? '']);
}
