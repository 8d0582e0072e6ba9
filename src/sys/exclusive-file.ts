// A file that only one process can create, born with its content: the owner id is written to a temporary file
// that link(2) then puts in place, which is atomic and fails if the name exists. A directory of such files is a
// registry (address leases, container names, published ports) in which a reader never sees a file without its
// owner. Claims need no lock; removals take turns (see removeIfOwned). Temporary files start with a dot, which
// listings skip.

import { closeSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stepError } from '../errors.js';
import { nativeAddon } from '../native/index.js';

/** Creates `path` holding `owner`; false when it already exists. Errors name the file; no temporary file is left. */
export function createExclusive(path: string, owner: string): boolean {
  const temporary = join(dirname(path), temporaryName(basename(path)));
  try {
    writeFileSync(temporary, `${owner}\n`, { mode: 0o644 });
  } catch (cause) {
    rmSync(temporary, { force: true }); // created, then the write failed (a full file system)
    throw stepError('write', temporary, cause);
  }
  try {
    linkSync(temporary, path);
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw stepError('link', `${temporary} to ${path}`, cause);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** The owner written in `path`, or null when it does not exist. */
export function ownerOf(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Removes `path` if `owner` holds it; missing counts as removed. Removers of one directory take turns (an flock on
 * it), and a claimer cannot replace an existing file, so the owner checked under the lock is the owner of the file
 * removed. Without the turns, a remover that had checked the owner before another removed the file could then
 * remove the file of a new owner.
 */
export function removeIfOwned(path: string, owner: string): void {
  if (ownerOf(path) !== owner) return;
  let lock: number;
  try {
    lock = nativeAddon().lockDirectory(dirname(path));
  } catch (cause) {
    if (!existsSync(dirname(path))) return; // the whole registry went (a reset): removed
    throw cause;
  }
  try {
    if (ownerOf(path) === owner) rmSync(path, { force: true });
  } finally {
    closeSync(lock);
  }
}

/** The name of a temporary file or directory of this process: `.tmp-<pid>-<rest>`, which removeStaleTemporaries knows. */
export function temporaryName(rest: string): string {
  return `.tmp-${process.pid}-${rest}`;
}

/** Removes the temporary files and directories (.tmp-<pid>-…) of processes that are gone. */
export function removeStaleTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^\.tmp-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !existsSync(`/proc/${pid}`)) rmSync(join(dir, name), { force: true, recursive: true });
  }
}

/** The names of a registry directory's files (not its temporaries); an absent directory is empty. */
function listNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch {
    return [];
  }
}

/** Every file of a registry directory as [name, owner]; an absent directory is empty. */
export function listOwned(dir: string): [string, string][] {
  return listNames(dir).map((name) => [name, ownerOf(join(dir, name)) ?? '']);
}

/**
 * A registry: a directory of exclusive files, each key held by one owner (a container id). Address leases, --name
 * reservations and published host ports are all one: claim, holder, release, entries, and gc's sweep of what dead
 * owners left.
 */
export class Registry {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Claims `key` for `owner`; false when another holds it. */
  claim(key: string, owner: string): boolean {
    mkdirSync(this.dir, { recursive: true });
    return createExclusive(join(this.dir, key), owner);
  }

  /** The owner holding `key`, or null. */
  holder(key: string): string | null {
    return ownerOf(join(this.dir, key));
  }

  /** Releases `key` if `owner` holds it; a missing key counts as released. */
  release(key: string, owner: string): void {
    removeIfOwned(join(this.dir, key), owner);
  }

  /** Every key as [key, owner]. */
  entries(): [string, string][] {
    return listOwned(this.dir);
  }

  /** Every key held, without reading the owners. */
  keys(): string[] {
    return listNames(this.dir);
  }

  /** Releases every key whose owner `gone` says is gone, and the temporary files of dead processes. */
  sweep(gone: (owner: string) => boolean): void {
    for (const [key, owner] of this.entries()) if (gone(owner)) this.release(key, owner);
    removeStaleTemporaries(this.dir);
  }
}
