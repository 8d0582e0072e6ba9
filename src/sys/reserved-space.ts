// Writing files on a file system that may be full: a new file is written whole or not at all (writeFileNamed), and
// a few files can still be replaced when nothing else can be written. Once a container has started, its record must
// still say who owns it and how it ended when its log (or another container's) has filled the file system: else a
// started container is reported as failed, or recorded as killed (137). So a container's directory holds a few
// reserve files, written (and so allocated) when it is created. A replacement that fails for lack of space takes one
// over: writing into blocks a file already has needs no new space, and the rename that puts it in place needs none
// either. Space freed on demand would not do: a container still writing its log would take it at once.
//
//   .reserve-0, .reserve-1, …   a pool, for replaceFile (each taken by a rename, so two writers never share one)
//   .reserve-<name>             dedicated to one writer (exit.json: see native/src/monitor.cc, which does the same)

import { closeSync, ftruncateSync, openSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stepError } from '../errors.js';

const RESERVE_PREFIX = '.reserve-';
const POOL = /^\.reserve-\d+$/;

/** Whether `cause` means that the file system (or the quota) is full. */
export function isOutOfSpace(cause: unknown): boolean {
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Writes a new file whole or not at all: on failure no part of it is left, and the error names the file (Node's
 * name only the system call: "ENOSPC: …, write").
 */
export function writeFileNamed(path: string, content: string | Buffer): void {
  try {
    writeFileSync(path, content);
  } catch (cause) {
    rmSync(path, { force: true });
    throw stepError('write', path, cause);
  }
}

/** The path of reserve file `name` in `dir`; a number names one of the pool. */
export function reservePath(dir: string, name: string | number): string {
  return join(dir, `${RESERVE_PREFIX}${name}`);
}

/** Creates reserve files `names` of `bytes` bytes each in `dir`. */
export function reserveSpace(dir: string, names: (string | number)[], bytes: number): void {
  const zeros = Buffer.alloc(bytes);
  for (const name of names) writeFileNamed(reservePath(dir, name), zeros);
}

/** Removes every reserve file left in `dir`: once nothing more is written there, they only hold space. */
export function releaseReserves(dir: string): void {
  for (const name of readdirSync(dir)) if (name.startsWith(RESERVE_PREFIX)) rmSync(join(dir, name), { force: true });
}

/** Writes `content` over the start of an existing file and cuts it there: no new space unless content is longer. */
function overwrite(path: string, content: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, content, 0, content.length, 0);
    ftruncateSync(fd, content.length);
  } finally {
    closeSync(fd);
  }
}

/** Turns one reserve file of the pool in `dir` into `path`; false when none is left. */
function takeReserve(dir: string, path: string): boolean {
  for (const name of readdirSync(dir).filter((entry) => POOL.test(entry))) {
    try {
      renameSync(join(dir, name), path);
      return true;
    } catch {
      // another writer took this one
    }
  }
  return false;
}

/**
 * Replaces a file whole (temp file + rename): readers see the old content or the new one, never a part. When the
 * file system is full, the temp file is a reserve of the pool in the same directory, if one is left.
 */
export function replaceFile(path: string, content: string): void {
  const temporary = `${path}.tmp`;
  const bytes = Buffer.from(content);
  try {
    writeFileSync(temporary, bytes);
  } catch (cause) {
    rmSync(temporary, { force: true });
    if (!isOutOfSpace(cause) || !takeReserve(dirname(path), temporary)) throw stepError('write', temporary, cause);
    try {
      overwrite(temporary, bytes);
    } catch (failure) {
      rmSync(temporary, { force: true });
      throw stepError('write', temporary, failure);
    }
  }
  renameSync(temporary, path);
}

/** Replaces `path` with `content` written into its dedicated reserve `name` (as native/src/monitor.cc does). */
export function replaceFromReserve(path: string, name: string, content: string): void {
  const reserve = reservePath(dirname(path), name);
  try {
    overwrite(reserve, Buffer.from(content));
  } catch (cause) {
    throw stepError('write', reserve, cause);
  }
  renameSync(reserve, path);
}
