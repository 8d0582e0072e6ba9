// Unpacking one layer's tar into an empty directory, the way an overlay lowerdir needs it, with every write confined
// to that directory. Unpacking is where runtimes get broken into (Docker CVE-2014-6407/9356, umoci CVE-2021-29136,
// containerd CVE-2021-32760), so node-tar's extractor is not used (it rewrites absolute symlinks, skips device
// nodes and ignores whiteouts): entries come from TarReader, the rules are here, and the writes are the addon's
// (native/src/unpack.cc), which resolves every parent with openat2(RESOLVE_IN_ROOT) and never follows the final
// component. So:
//
//   - a path is taken relative to the layer root ("/etc/x" and "./etc/x" are "etc/x"); one holding ".." is refused;
//     the root itself ("./") is left alone, and any other kind of entry naming it is refused
//   - symlinks are written verbatim (an absolute target is resolved inside the container's root at run time), and
//     writes "through" one stay in the layer: a symlink `a -> /` then `a/etc/x` makes etc/x in the layer
//   - hard links point inside the layer, the target resolved like any path
//   - `.wh.NAME` becomes an overlay whiteout (a 0/0 character device NAME), `.wh..wh..opq` marks its directory
//     opaque (trusted.overlay.opaque=y); other `.wh..wh.` names (aufs metadata) are skipped, as containerd does
//   - devices and FIFOs are made (the container's device cgroup decides who may open them); owners are numeric
//   - xattrs (security.capability included) are set on files and directories after the owner and mode, and
//     trusted.overlay.* never comes from a layer (it would steer overlayfs itself)
//   - a directory's times are set once every entry is written (writing into a directory changes its mtime)

import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { MinictrError, messageOf } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import type { EntryTimes, UnpackEntry } from '../native/types.js';
import { TarReader, type TarEntry } from './tar-reader.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** The components of an entry's path inside the layer root; refuses "..". */
export function layerPath(raw: string): string[] {
  const parts = raw.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new MinictrError(`path "${raw}" leaves the layer (it holds "..")`);
  return parts;
}

function split(parts: string[]): { parent: string; name: string } {
  return { parent: parts.slice(0, -1).join('/'), name: parts[parts.length - 1]! };
}

/** Unpacks the tar read from `source` into `root` (an empty directory). `what` names the layer in errors. */
export async function unpackLayer(source: AsyncIterable<Buffer>, root: string, what: string): Promise<void> {
  const addon = nativeAddon();
  const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  const directoryTimes = new Map<string, { parent: string; name: string; times: EntryTimes }>();
  const reader = new TarReader(source);
  // The entry being written, to name it when a step fails (null while reading the archive itself).
  let current: TarEntry | null = null;
  try {
    // 1. Every entry, in archive order.
    for (let entry = await reader.next(); entry !== null; entry = await reader.next()) {
      current = entry;
      await unpackEntry(rootFd, entry, reader, directoryTimes);
      current = null;
    }
    // 2. Directory times, now that nothing more is written into them.
    for (const times of directoryTimes.values()) addon.unpackTimes(rootFd, times);
    // 3. The rest of the stream (end-of-archive blocks), so that a digest of it covers every byte.
    await reader.finish();
  } catch (cause) {
    throw new MinictrError(`${what}: ${current !== null ? `entry "${current.path}": ` : ''}${messageOf(cause)}`, 'failure', cause);
  } finally {
    closeSync(rootFd);
  }
}

async function unpackEntry(rootFd: number, entry: TarEntry, reader: TarReader, directoryTimes: Map<string, { parent: string; name: string; times: EntryTimes }>): Promise<void> {
  const addon = nativeAddon();
  const parts = layerPath(entry.path);
  if (parts.length === 0) {
    if (entry.type === 'directory') return;
    throw new MinictrError('a non-directory cannot be the layer root');
  }
  const { parent, name } = split(parts);
  const times: EntryTimes = { atime: entry.atime, mtime: entry.mtime };
  const owner = { uid: entry.uid, gid: entry.gid };
  for (const xattr of entry.xattrs) {
    if (xattr.name.startsWith('trusted.overlay.')) throw new MinictrError(`xattr ${xattr.name} belongs to overlayfs and cannot come from a layer`);
  }
  if (entry.xattrs.length > 0 && entry.type !== 'file' && entry.type !== 'directory') {
    throw new MinictrError(`xattrs on a ${entry.type} are not supported (only on files and directories)`);
  }

  // Whiteouts.
  if (name === OPAQUE) {
    const fd = parent === '' ? rootFd : addon.unpackCreate(rootFd, { kind: 'directory', ...split(layerPath(parent)), mode: 0o755, ...owner, times: null });
    try {
      addon.unpackFinish(fd, parent || '.', { owner: null, mode: null, xattrs: [{ name: 'trusted.overlay.opaque', value: Buffer.from('y') }], times: null });
    } finally {
      if (fd !== rootFd) closeSync(fd);
    }
    return;
  }
  if (name.startsWith(WHITEOUT)) {
    if (name.startsWith(`${WHITEOUT}${WHITEOUT}`)) return;
    const hidden = name.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw new MinictrError(`whiteout "${name}" names no entry`);
    addon.unpackCreate(rootFd, { kind: 'char', parent, name: hidden, mode: 0, ...owner, major: 0, minor: 0, times });
    return;
  }

  let native: UnpackEntry;
  switch (entry.type) {
    case 'symlink':
      native = { kind: 'symlink', parent, name, mode: entry.mode, ...owner, times, target: entry.linkpath };
      break;
    case 'link': {
      const target = layerPath(entry.linkpath);
      if (target.length === 0) throw new MinictrError(`hard link to "${entry.linkpath}", the layer root`);
      native = { kind: 'link', parent, name, mode: entry.mode, ...owner, times, target: target.join('/') };
      break;
    }
    case 'char':
    case 'block':
      native = { kind: entry.type, parent, name, mode: entry.mode, ...owner, times, major: entry.devmajor, minor: entry.devminor };
      break;
    default:
      native = { kind: entry.type, parent, name, mode: entry.mode, ...owner, times: null };
  }
  const fd = addon.unpackCreate(rootFd, native);
  if (fd < 0) return;
  try {
    if (entry.type === 'file') {
      for await (const piece of reader.body()) {
        for (let written = 0; written < piece.length; ) written += writeSync(fd, piece, written);
      }
    } else {
      directoryTimes.set(parts.join('/'), { parent, name, times });
    }
    const path = parts.join('/');
    addon.unpackFinish(fd, path, { owner, mode: entry.mode, xattrs: entry.xattrs, times: entry.type === 'file' ? times : null });
  } finally {
    closeSync(fd);
  }
}
