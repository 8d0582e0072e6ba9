// `minictr cp`'s copies into and out of a running container's root (/proc/PID/root), which the container controls
// while minictr reads and writes it as root on the host. A path there is never handed to the kernel as a string:
//   1. the directory holding the entry is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) relative to
//      a descriptor of the root (the addon's openInRoot): symlinks on the way, absolute or relative, and `..` are
//      followed as the container would follow them, never out of its root;
//   2. the entry itself is one name in that directory, reached as /proc/self/fd/DIR/NAME: the kernel starts from
//      the directory the descriptor holds, and the last component is never followed (lstat, mkdir, symlink,
//      unlink, open with O_NOFOLLOW), so a symlink the container puts there, now or while the copy runs, is copied
//      or replaced as a symlink, never written or read through;
//   3. a directory's entries are reached the same way from a descriptor of that directory, opened O_NOFOLLOW.
// Files are opened O_NONBLOCK (a FIFO swapped in cannot hang the copy) and must then be regular files (fstat).
// Only files, directories and symlinks are copied (no device nodes, FIFOs or sockets), as regular copies: in,
// owned by the container's root with the source's mode; out, owned by the user running minictr, without the
// set-user-ID and set-group-ID bits (the owner is not kept, as GNU cp drops them then: the container's setuid file
// would otherwise come out a setuid program of the host's root). Timestamps are not kept.

import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, symlinkSync, unlinkSync, writeSync } from 'node:fs';
import { join, posix } from 'node:path';
import { MinictrError } from '../errors.js';
import { nativeAddon } from '../native/index.js';

/** O_PATH, which node:fs does not name (see contained-file.ts). */
const O_PATH = 0o10000000;
const CHUNK = 1 << 20;
/** The mode bits a copy out keeps: not set-user-ID or set-group-ID (see the file's comment). */
const OUT_MODE = 0o1777;

/** A directory inside the container, held open: its entries are /proc/self/fd/FD/NAME. */
class ContainedDir {
  constructor(readonly fd: number, readonly path: string) {}

  entry(name: string): string {
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** The subdirectory `name`, not following a symlink. */
  open(name: string): ContainedDir {
    return new ContainedDir(openSync(this.entry(name), O_PATH | constants.O_DIRECTORY | constants.O_NOFOLLOW), posix.join(this.path, name));
  }

  list(): string[] {
    return readdirSync(`/proc/self/fd/${this.fd}`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Opens the directory `path` inside the root open at rootFd (step 1). */
export function openContainedDir(rootFd: number, path: string): ContainedDir {
  const fd = nativeAddon().openInRoot(rootFd, path);
  if (!fstatSync(fd).isDirectory()) {
    closeSync(fd);
    throw new MinictrError(`${path} in the container is not a directory`, 'usage');
  }
  return new ContainedDir(fd, path);
}

function copyBytes(from: number, to: number): void {
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const n = readSync(from, buffer, 0, CHUNK, null);
    if (n === 0) return;
    for (let done = 0; done < n; ) done += writeSync(to, buffer, done, n - done);
  }
}

/** A regular file, opened without following a symlink, without blocking, and checked to be one. */
function openRegular(path: string, shown: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new MinictrError(`copy ${shown}: not a regular file any more`);
  }
  return fd;
}

/** Host `source` (file, directory or symlink) to `name` in `dir`, recursively. Skips other kinds, returns them. */
export function copyIn(source: string, dir: ContainedDir, name: string, skipped: string[] = []): string[] {
  const stats = lstatSync(source);
  const target = dir.entry(name);
  const existing = lstatSync(target, { throwIfNoEntry: false });
  // A directory merges with a directory; anything else in the way is replaced, never written through.
  if (existing !== undefined && !(existing.isDirectory() && stats.isDirectory())) {
    if (existing.isDirectory()) throw new MinictrError(`copy ${source}: ${posix.join(dir.path, name)} is a directory in the container`, 'usage');
    unlinkSync(target);
  }
  if (stats.isDirectory()) {
    if (existing === undefined) mkdirSync(target, { mode: stats.mode & 0o7777 });
    const sub = dir.open(name);
    try {
      for (const child of readdirSync(source)) copyIn(join(source, child), sub, child, skipped);
    } finally {
      sub.close();
    }
  } else if (stats.isFile()) {
    copyRegular(source, source, target, constants.O_EXCL, stats.mode & 0o7777);
  } else if (stats.isSymbolicLink()) {
    symlinkSync(readlinkSync(source), target);
  } else {
    skipped.push(source);
  }
  return skipped;
}

/**
 * One regular file's bytes from `source` (`shown` in errors) into `target`, created with `mode` (or truncated, with
 * O_TRUNC): never through a symlink at `target`, whatever was copied there before.
 */
function copyRegular(source: string, shown: string, target: string, createFlag: number, mode: number): void {
  const from = openRegular(source, shown);
  try {
    const to = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | createFlag, mode);
    try {
      copyBytes(from, to);
    } finally {
      closeSync(to);
    }
  } finally {
    closeSync(from);
  }
}

/** `name` in the container's `dir` (file, directory or symlink) to host `destination`, recursively. */
export function copyOut(dir: ContainedDir, name: string, destination: string, skipped: string[] = []): string[] {
  const source = dir.entry(name);
  const shown = posix.join(dir.path, name);
  const stats = lstatSync(source);
  if (stats.isDirectory()) {
    mkdirSync(destination, { recursive: true, mode: stats.mode & OUT_MODE });
    const sub = dir.open(name);
    try {
      for (const child of sub.list()) copyOut(sub, child, join(destination, child), skipped);
    } finally {
      sub.close();
    }
  } else if (stats.isFile()) {
    copyRegular(source, shown, destination, constants.O_TRUNC, stats.mode & OUT_MODE);
  } else if (stats.isSymbolicLink()) {
    symlinkSync(readlinkSync(source), destination);
  } else {
    skipped.push(shown);
  }
  return skipped;
}
