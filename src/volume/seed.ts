// Docker's copy-up: a volume's first container finds in it what its image has at the volume's path (files,
// directories and symlinks, with their owners, modes and times), so `-v data:/var/lib/app` starts from the image's
// defaults. The image's directory is read from its layers as overlayfs would merge them (container/layered-root.ts:
// whiteouts hide, opaque directories stop the merge). Device nodes, FIFOs and sockets are not copied.
//
// Confinement: the source path is resolved inside the layers (symlinks followed as the container would, never out
// of them); below it, entries are read with lstat and a symlink is copied as a symlink, never followed. Writes go
// into the volume's _data, which no container has mounted yet (store.ts: the first container seeds, under the
// volumes' lock), into directories this copy made: nothing there can redirect them.

import { closeSync, constants, copyFileSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { layersOf, lookup, resolveInLayers, type Entry, type OpaqueTest, type Root } from '../container/layered-root.js';

/** The layer directories that make up the merged directory at `path` (a path with no symlink left), or null. */
function mergedDirectory(layers: readonly string[], path: string, isOpaque: OpaqueTest): string[] | null {
  let dirs = [...layers];
  for (const part of path.split('/').filter((p) => p !== '')) {
    const entry = lookup(dirs, part, isOpaque);
    if (entry === null || !entry.stats.isDirectory()) return null;
    dirs = entry.paths;
  }
  return dirs;
}

/**
 * Owner, mode and times of what this copy just created, through a descriptor opened without following a symlink:
 * a name swapped for a symlink meanwhile (a volume bind-mounted into a running container) fails, and nothing
 * outside the volume is changed. The owner goes first: chown clears set-user-ID bits that chmod then sets.
 */
function copyMetadata(path: string, stats: Stats): void {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, stats.uid, stats.gid);
    fchmodSync(fd, stats.mode & 0o7777);
    futimesSync(fd, stats.atime, stats.mtime);
  } finally {
    closeSync(fd);
  }
}

function copyEntry(entry: Entry, to: string, isOpaque: OpaqueTest): void {
  const { stats } = entry;
  const from = entry.paths[0]!;
  if (stats.isDirectory()) {
    mkdirSync(to);
    copyDirectory(entry.paths, to, isOpaque);
    copyMetadata(to, stats);
  } else if (stats.isFile()) {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    copyMetadata(to, stats);
  } else if (stats.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    lchownSync(to, stats.uid, stats.gid);
  }
}

/** The merged content of `dirs` (topmost first) into the existing directory `to`. */
function copyDirectory(dirs: readonly string[], to: string, isOpaque: OpaqueTest): void {
  const names = new Set(dirs.flatMap((dir) => readdirSync(dir)));
  for (const name of names) {
    const entry = lookup([...dirs], name, isOpaque);
    if (entry !== null) copyEntry(entry, join(to, name), isOpaque);
  }
}

/**
 * Copies the image's directory at `target` into `data` (an empty volume directory), which takes its owner and
 * mode. Returns false when the image has no directory there (nothing to copy).
 */
export function seedVolume(root: Root, target: string, data: string, isOpaque: OpaqueTest): boolean {
  const layers = layersOf(root);
  const top = resolveInLayers(layers, target, isOpaque);
  if (top === null || !lstatSync(top).isDirectory()) return false;
  // The path inside the root with every symlink resolved: `top` less the layer it is in.
  const layer = layers.find((dir) => top === dir || top.startsWith(`${dir}/`))!;
  const dirs = mergedDirectory(layers, posix.relative(layer, top), isOpaque);
  if (dirs === null) return false;
  copyDirectory(dirs, data, isOpaque);
  copyMetadata(data, lstatSync(dirs[0]!));
  return true;
}
