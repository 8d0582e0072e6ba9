// Reading a file that a container or a rootfs controls: /etc/passwd and /etc/group, for --user and exec -u.
// minictr reads them as root on the host, and whoever wrote the rootfs, or root in a running container, chose what
// they are: a FIFO (an open blocks until someone writes), a device (/dev/zero never ends; opening some devices does
// something), a symlink pointing out of the root, or a regular file of 10 GB. So:
//   (1) the path is resolved inside the root, symlinks followed as the container would follow them (rootfs.ts);
//   (2) its last component is opened with O_PATH | O_NOFOLLOW, which reads nothing, cannot block on a FIFO, opens
//       no device, and does not follow a symlink put there since (1);
//   (3) fstat on that descriptor: it must be a regular file, within the size cap;
//   (4) it is reopened for reading through /proc/self/fd (the same file, whatever becomes of the path), and read up
//       to the cap: a file can grow after (3), and procfs files report a size of 0.
// A running container can still swap a directory on the path for a symlink between (1) and (2); what it gains is
// that minictr reads a host file as a passwd file, bounded like any other.

import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { messageOf, UsageError } from '../errors.js';
import type { Root } from './layered-root.js';
import { resolveInRoot } from './rootfs.js';

/** O_PATH, which node:fs does not name; Linux's value on x86-64 and arm64. (libuv adds O_CLOEXEC to every open.) */
const O_PATH = 0o10000000;

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSymbolicLink()) return 'a symlink';
  if (stats.isSocket()) return 'a socket';
  return stats.isDirectory() ? 'a directory' : 'not a regular file';
}

function sizeText(bytes: number): string {
  return bytes % 1024 ** 2 === 0 ? `${bytes / 1024 ** 2} MiB` : `${bytes} bytes`;
}

/**
 * The text of `path` inside `root` (a rootfs, or /proc/PID/root), or null when it does not exist. Throws a
 * UsageError saying what is wrong ("/etc/passwd is a FIFO, not a regular file") when it is not a regular file of
 * at most `maxBytes`; the caller adds where the file is.
 */
export function readContainedFile(root: Root, path: string, maxBytes: number): string | null {
  const hostPath = resolveInRoot(root, path);
  if (hostPath === null) return null;
  let handle: number;
  try {
    handle = openSync(hostPath, O_PATH | constants.O_NOFOLLOW);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UsageError(`${path} cannot be opened: ${messageOf(cause)}`);
  }
  let fd = -1;
  try {
    const stats = fstatSync(handle);
    if (!stats.isFile()) throw new UsageError(`${path} is ${kindOf(stats)}, not a regular file`);
    if (stats.size > maxBytes) throw new UsageError(`${path} is larger than ${sizeText(maxBytes)}`);
    fd = openSync(`/proc/self/fd/${handle}`, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw new UsageError(`${path} is larger than ${sizeText(maxBytes)}`);
    return buffer.toString('utf8', 0, length);
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new UsageError(`${path} cannot be read: ${messageOf(cause)}`);
  } finally {
    if (fd >= 0) closeSync(fd);
    closeSync(handle);
  }
}
