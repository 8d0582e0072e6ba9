// The container's root filesystem as seen from the host, before the container exists: where the default one is,
// whether a given one is usable, and which file a command names inside it. Symlinks are followed as they would be
// inside the container (an absolute target is relative to the rootfs, never to the host), so `sh` in the busybox
// rootfs resolves through /bin/sh -> /bin/busybox to a file under the rootfs.

import { lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { posix } from 'node:path';
import { MinictrError, UsageError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import { layersOf, lstatOrNull, resolveInLayers, type Root } from './layered-root.js';

export function defaultRootfs(): string {
  return fileURLToPath(new URL('../../rootfs/image', import.meta.url));
}

export function checkRootfs(root: Root, isDefault: boolean): void {
  for (const dir of layersOf(root)) {
    const stats = statSync(dir, { throwIfNoEntry: false });
    if (stats === undefined) {
      const hint = isDefault ? '; build the default one with: npm run rootfs' : '';
      throw new UsageError(`rootfs ${dir} does not exist${hint}`);
    }
    if (!stats.isDirectory()) throw new UsageError(`rootfs ${dir} is not a directory`);
  }
  checkMountTargets(root);
}

/** Directories the child mounts on (/proc, /dev, /sys) or writes into (/etc); each is made where missing. */
const MOUNT_TARGETS = ['/proc', '/dev', '/sys', '/etc'];
/**
 * Files the child replaces: it unlinks what is there and creates a new file (O_EXCL), so a symlink there is
 * replaced, never followed (images point resolv.conf at systemd-resolved's file), but a directory cannot be.
 */
const REPLACED_FILES = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'];

/**
 * Refuses a rootfs where a mount target is a symlink or not a directory: mounting there would follow the link
 * (inside the container, yet a /proc or /dev somewhere else than where the security profile masks it). The rootfs
 * is the overlay's read-only lower layer and the upper layer starts empty, so what is checked here is what the
 * child finds (native/src/child.cc refuses a symlink there too).
 */
function checkMountTargets(root: Root): void {
  // The topmost layer holding the path decides, as in the overlay; a whiteout there means it is missing.
  const lstatIn = (path: string): { stats: Stats; host: string } | null => {
    for (const layer of layersOf(root)) {
      const host = posix.join(layer, path);
      const stats = lstatOrNull(host);
      if (stats !== null) return stats.isCharacterDevice() && stats.rdev === 0 ? null : { stats, host };
    }
    return null; // missing: the child makes it
  };
  for (const path of MOUNT_TARGETS) {
    const found = lstatIn(path);
    if (found === null || found.stats.isDirectory()) continue;
    const what = found.stats.isSymbolicLink() ? `a symlink (to ${readlinkSync(found.host)})` : 'not a directory';
    throw new UsageError(`${describeRoot(root)}: ${path} is ${what}; minictr mounts on it or writes into it, so it must be a directory`);
  }
  for (const path of REPLACED_FILES) {
    if (lstatIn(path)?.stats.isDirectory()) throw new UsageError(`${describeRoot(root)}: ${path} is a directory; minictr writes a file there`);
  }
}

/**
 * The host path of `path` (absolute, inside the container) with every symlink resolved inside `root`, or null when
 * some component does not exist. ".." never climbs above the root, as in a chroot. An image's layers are merged as
 * overlayfs will merge them (layered-root.ts).
 */
export function resolveInRoot(root: Root, path: string): string | null {
  const layers = layersOf(root);
  return resolveInLayers(layers, path, layers.length > 1 ? (dir) => nativeAddon().isOpaqueDirectory(dir) : undefined);
}

/** How messages name a root: the rootfs's path, or "the image's layers". */
export function describeRoot(root: Root): string {
  return typeof root === 'string' ? `rootfs ${root}` : "the image's layers";
}

/**
 * The path inside the container that execve() should run for `command`, searched in `pathEnv` as a shell would.
 * Throws kind "not-found" (exit 127) or "cannot-execute" (exit 126) with Docker's wording.
 */
export function findCommand(root: Root, command: string, pathEnv: string, workdir: string): string {
  const candidates = command.includes('/')
    ? [posix.resolve(workdir, command)]
    : pathEnv.split(':').filter((dir) => dir.startsWith('/')).map((dir) => posix.join(dir, command));
  let notExecutable: string | null = null;
  for (const candidate of candidates) {
    const hostPath = resolveInRoot(root, candidate);
    if (hostPath === null) continue;
    // lstat: resolveInRoot followed every symlink already; one a running container put there since is not followed.
    const stats = lstatSync(hostPath);
    if (stats.isFile() && (stats.mode & 0o111) !== 0) return candidate;
    notExecutable ??= stats.isDirectory() ? `${candidate}: is a directory` : `${candidate}: permission denied`;
  }
  if (notExecutable !== null) throw new MinictrError(`exec ${notExecutable}`, 'cannot-execute');
  const where = command.includes('/') ? 'no such file or directory' : 'executable file not found in $PATH';
  throw new MinictrError(`exec "${command}": ${where} in ${describeRoot(root)}`, 'not-found');
}
