// `minictr cp CONTAINER:SRC DEST` and `minictr cp SRC CONTAINER:DEST`, as docker cp: a destination that is an
// existing directory receives the source under its own name, any other names the copy (its parent must exist).
// Only running containers: an exited container's writable layer is removed when it exits, so there is nothing left
// to copy from or to. The container side is reached through /proc/PID/root and never left
// (container/contained-copy.ts says how).

import { closeSync, constants, fstatSync, lstatSync, openSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { MinictrError, UsageError } from '../errors.js';
import { warn } from '../log.js';
import { copyIn, copyOut, openContainedDir } from '../container/contained-copy.js';
import { currentContainers, isRunning, resolveContainer } from '../container/lookup.js';
import { nativeAddon } from '../native/index.js';
import { startTimeOf } from '../sys/proc.js';

/** O_PATH (see container/contained-file.ts). */
const O_PATH = 0o10000000;
const { ENOENT } = osConstants.errno;

/** CONTAINER:PATH, as Docker tells it from a host path: a colon, and no leading "/" or ".". */
function containerSide(arg: string): { ref: string; path: string } | null {
  const colon = arg.indexOf(':');
  if (colon <= 0 || arg.startsWith('/') || arg.startsWith('.')) return null;
  const path = arg.slice(colon + 1);
  if (path === '' || path.includes('\0')) throw new UsageError(`invalid cp path "${arg}": CONTAINER:PATH needs a path`);
  return { ref: arg.slice(0, colon), path: posix.resolve('/', path) };
}

/** A descriptor of the running container's root, checked to belong to its PID 1 (not a process reusing the pid). */
async function openContainerRoot(ref: string): Promise<number> {
  const container = resolveContainer(ref, await currentContainers({ all: true }));
  if (!isRunning(container) || container.process === null) {
    throw new UsageError(`container ${ref} is not running: minictr cp copies to and from running containers only (an exited container's writable layer is gone)`);
  }
  const { pid, startTime } = container.process;
  const root = openSync(`/proc/${pid}/root`, O_PATH | constants.O_DIRECTORY);
  if (startTimeOf(pid) !== startTime) {
    closeSync(root);
    throw new MinictrError(`container ${ref} exited while cp started`, 'lookup');
  }
  return root;
}

/** Whether `path` inside the root is a directory (a final symlink followed inside the root); false when missing. */
function isContainedDirectory(root: number, path: string): boolean {
  let fd: number;
  try {
    fd = nativeAddon().openInRoot(root, path);
  } catch (cause) {
    if ((cause as { errno?: number }).errno === ENOENT) return false;
    throw cause;
  }
  try {
    return fstatSync(fd).isDirectory();
  } finally {
    closeSync(fd);
  }
}

/** Errors of the container side, naming the container path. */
function inContainer<T>(what: string, action: () => T): T {
  try {
    return action();
  } catch (cause) {
    if (cause instanceof MinictrError) throw cause;
    const { code, errno } = cause as { code?: string; errno?: number };
    const reason = code === 'ENOENT' || errno === ENOENT ? 'no such file or directory' : (cause as Error).message;
    throw new MinictrError(`cp ${what}: ${reason}`, 'usage', cause);
  }
}

export async function cp(source: string, destination: string): Promise<number> {
  const from = containerSide(source);
  const to = containerSide(destination);
  if ((from === null) === (to === null)) {
    throw new UsageError('minictr cp needs exactly one CONTAINER:PATH: cp CONTAINER:SRC DEST or cp SRC CONTAINER:DEST');
  }
  const root = await openContainerRoot((from ?? to)!.ref);
  let skipped: string[];
  try {
    if (to !== null) {
      const host = resolve(source);
      if (lstatSync(host, { throwIfNoEntry: false }) === undefined) throw new UsageError(`cp: host path ${host} does not exist`);
      // An existing directory receives the source under its name; otherwise the path names the copy.
      const isDir = inContainer(to.path, () => isContainedDirectory(root, to.path));
      const [dir, name] = isDir ? [to.path, basename(host)] : [posix.dirname(to.path), posix.basename(to.path)];
      const parent = inContainer(dir, () => openContainedDir(root, dir));
      try {
        skipped = inContainer(posix.join(dir, name), () => copyIn(host, parent, name));
      } finally {
        parent.close();
      }
    } else {
      const path = from!.path;
      if (path === '/') throw new UsageError("cp: copying the container's whole root is not supported; name a path inside it");
      const parent = inContainer(path, () => openContainedDir(root, posix.dirname(path)));
      try {
        const host = resolve(destination);
        const target = statSync(host, { throwIfNoEntry: false })?.isDirectory() ? join(host, posix.basename(path)) : host;
        if (statSync(dirname(target), { throwIfNoEntry: false }) === undefined) throw new UsageError(`cp: host directory ${dirname(target)} does not exist`);
        skipped = inContainer(path, () => copyOut(parent, posix.basename(path), target));
      } finally {
        parent.close();
      }
    }
  } finally {
    closeSync(root);
  }
  if (skipped.length > 0) warn(`cp: not copied (not a file, directory or symlink): ${skipped.join(', ')}`);
  return 0;
}
