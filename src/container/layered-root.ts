// A container's root as the overlay will show it, seen from the host before the container exists: a stack of
// directories (the image's layers, topmost first; or the one --rootfs directory), merged with overlayfs's rules, so
// that the command and /etc/passwd are found in the file the container will see.
//
// overlayfs's lookup, for one name in a merged directory: the topmost layer that has the name decides. A whiteout
// there (a character device 0/0) means the name does not exist; a file or symlink is the entry; a directory merges
// with the same directory in the layers below it, down to the first layer where the name is missing-then-present
// as something else, is whited out, or the directory is opaque (xattr trusted.overlay.opaque = "y"), which hides
// everything below it.
//
// Symlinks are followed as they would be inside the container: an absolute target starts again at the root, ".."
// never climbs above it. Nothing here writes, and no path ever leaves the layer directories.

import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';

const MAX_SYMLINKS = 40; // the kernel's own limit (ELOOP)

/** Whether a directory is opaque; given by the caller, who can read xattrs. */
export type OpaqueTest = (hostPath: string) => boolean;

/** A container's root before it exists: one directory (a rootfs, /proc/PID/root), or an image's layers, topmost first. */
export type Root = string | readonly string[];

export function layersOf(root: Root): readonly string[] {
  return typeof root === 'string' ? [root] : root;
}

export interface Entry {
  /** The host paths making up this entry: one for a file or symlink, the merged layers for a directory. */
  paths: string[];
  stats: Stats;
}

/** lstat, or null when nothing is there (without an exception: a lookup misses in most layers of a deep image). */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null; // ENOTDIR: a file where a directory was expected
  }
}

function isWhiteout(stats: Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

/** `name` in the merged directory made of `dirs` (topmost first); null when absent or whited out. */
export function lookup(dirs: string[], name: string, isOpaque: OpaqueTest): Entry | null {
  for (let i = 0; i < dirs.length; i++) {
    const top = posix.join(dirs[i]!, name);
    const stats = lstatOrNull(top);
    if (stats === null) continue;
    if (isWhiteout(stats)) return null;
    if (!stats.isDirectory()) return { paths: [top], stats };
    const merged = [top];
    if (i + 1 < dirs.length && !isOpaque(top)) {
      for (const below of dirs.slice(i + 1)) {
        const path = posix.join(below, name);
        const lower = lstatOrNull(path);
        if (lower === null) continue;
        if (!lower.isDirectory()) break; // a whiteout or a file ends the merge
        merged.push(path);
        if (isOpaque(path)) break;
      }
    }
    return { paths: merged, stats };
  }
  return null;
}

/**
 * The host path of `path` (absolute, inside the container) in the topmost layer that provides it, with every
 * symlink resolved in the merged view; null when some component does not exist.
 */
export function resolveInLayers(layers: readonly string[], path: string, isOpaque: OpaqueTest = () => false): string | null {
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  // The directories walked so far, each with the layers it merges; the root merges them all.
  const trail: string[][] = [[...layers]];
  let links = 0;
  let last: string | null = null;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      if (trail.length > 1) trail.pop();
      last = null;
      continue;
    }
    const entry = lookup(trail[trail.length - 1]!, part, isOpaque);
    if (entry === null) return null;
    if (entry.stats.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return null;
      const target = readlinkSync(entry.paths[0]!);
      if (target.startsWith('/')) trail.length = 1;
      pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      last = null;
      continue;
    }
    if (entry.stats.isDirectory()) {
      trail.push(entry.paths);
    } else if (pending.length > 0) {
      return null; // a file in the middle of a path
    }
    last = entry.paths[0]!;
  }
  return last ?? trail[trail.length - 1]![0] ?? null;
}
