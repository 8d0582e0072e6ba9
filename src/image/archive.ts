// The files of an image archive (`docker save`'s, an OCI image layout's, or both), extracted so that the loader can
// read them in any order: the archive comes as a stream (a file, or stdin, which cannot be read twice), its
// members in whatever order its writer chose. Only regular files are written, each under a number in a work
// directory the caller owns, never under a name from the archive, so a hostile archive (`../x`, absolute paths,
// symlinks out) writes nothing outside it. Symlinks and hard links are kept as aliases resolved inside the
// archive (docker save's `<id>/layer.tar -> ../<digest>.tar`); anything else (directories, devices) is skipped.

import { createWriteStream } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { MinictrError } from '../errors.js';
import { TarReader } from './tar-reader.js';

/** Alias hops followed before an archive's links count as a loop. */
const MAX_LINK_HOPS = 16;

export class ArchiveFiles {
  private constructor(
    private readonly files: Map<string, string>,
    private readonly links: Map<string, string>,
    private readonly what: string,
  ) {}

  /** Extracts the (uncompressed) tar `source` into `dir`, an empty directory. */
  static async extract(source: Readable, dir: string, what: string): Promise<ArchiveFiles> {
    const files = new Map<string, string>();
    const links = new Map<string, string>();
    const reader = new TarReader(source);
    try {
      for (let entry = await reader.next(); entry !== null; entry = await reader.next()) {
        const path = archivePath(entry.path);
        if (path === null) continue; // outside the archive's root: no format names such a member
        if (entry.type === 'file') {
          const file = join(dir, String(files.size));
          await pipeline(reader.body(), createWriteStream(file, { flags: 'wx', mode: 0o644 }));
          files.set(path, file);
          links.delete(path);
        } else if (entry.type === 'symlink' || entry.type === 'link') {
          const target = archivePath(entry.type === 'symlink' && !entry.linkpath.startsWith('/') ? posix.join(posix.dirname(path), entry.linkpath) : entry.linkpath);
          if (target !== null) links.set(path, target);
          files.delete(path);
        }
      }
      await reader.finish();
    } catch (cause) {
      throw new MinictrError(`read ${what}: ${(cause as Error).message}`, 'usage', cause);
    }
    return new ArchiveFiles(files, links, what);
  }

  /** The extracted file of member `name`, following the archive's own links; null when there is none. */
  find(name: string): string | null {
    let path = archivePath(name);
    for (let hop = 0; path !== null && hop < MAX_LINK_HOPS; hop++) {
      const file = this.files.get(path);
      if (file !== undefined) return file;
      path = this.links.get(path) ?? null;
    }
    return null;
  }

  /** Like find, but a missing member is an error naming it. */
  get(name: string): string {
    const file = this.find(name);
    if (file === null) throw new MinictrError(`${this.what}: it has no file "${name}"`, 'usage');
    return file;
  }
}

/** A member's path relative to the archive's root (`./a//b` is `a/b`); null when it leaves the root. */
function archivePath(raw: string): string | null {
  const path = posix.normalize(`/${raw}`).slice(1).replace(/\/$/, '');
  return path === '' || raw.split('/').includes('..') ? null : path;
}
