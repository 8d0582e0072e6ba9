// The content-addressed image store under /var/lib/minictr (persistent: images survive reboots, unlike /run):
//
//   blobs/sha256/<hex>     manifests, indexes, configs and compressed layers, each stored under the digest of its
//                          bytes, verified before it is renamed into place, never changed afterwards
//   images/<hex>.json      one file per reference (hex: sha256 of the reference's full name), naming its manifest
//                          and holding what a run needs (its layers' chain ids, the config's run fields)
//   layers/<chain id hex>/diff   each layer unpacked once (src/image/layers.ts), shared read-only by containers
//   layers/.tmp-<pid>-<random>  an unpack in progress, renamed into place whole when done
//   tmp/.tmp-<pid>-<random>     downloads and archives being loaded, on the same file system so that committing
//                               one is a rename; what a killed pull, load or unpack leaves belongs to a dead pid,
//                               and the next pull, unpack or `gc` removes it (removeStaleTemporaries)
//
// Every write is a complete file renamed into place, so a reader (or a second pull of the same image) sees a blob
// or a reference whole or not at all; two pulls of one blob both download it and the second rename is a no-op.
//
// One lock, flock(2) on images/, orders what changes which images exist: committing an image's records (commit.ts)
// and removing records, blobs and layers (sweep.ts). It is held for the few file operations of a commit or a
// removal, never for a download; the kernel drops it when its holder dies, so a kill -9 cannot leave it taken.
// Under it a commit checks that every blob it names is (still) there, so a removal that ran while a pull was
// downloading cannot leave a record naming a blob that is gone.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError, stepError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import { DATA_ROOT } from '../paths.js';
import { removeStaleTemporaries, temporaryName } from '../sys/exclusive-file.js';
import { sha256, type RunConfig } from './manifest.js';
import { DIGEST } from './reference.js';

/** What images/<hex>.json holds. */
export interface ImageRecord {
  /** Full reference: `docker.io/library/nginx:latest`. */
  name: string;
  /** The platform's image manifest. */
  manifest: string;
  /** The index it was chosen from, when the reference named one. */
  index: string | null;
  config: string;
  /** When it was stored (ISO 8601). */
  pulled: string;
  /**
   * Kept under a digest name (`repo@sha256:…`) when its tag moved to another image: Docker's dangling image, which
   * `image prune` removes.
   */
  untagged?: boolean;
  /**
   * What a run needs, worked out when the image was stored, so that `run` reads this one small file and neither
   * manifest nor config (layers.ts): the layers' chain ids, lowest first, and the config's run fields (checked
   * then). Absent from records an older minictr wrote.
   */
  run?: { layers: string[]; config: RunConfig };
}

export class ImageStore {
  readonly root: string;

  constructor(root: string = DATA_ROOT) {
    this.root = root;
  }

  private dir(name: string): string {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  blobPath(digest: string): string {
    if (!DIGEST.test(digest)) throw new MinictrError(`blob path: "${digest}" is not a sha256 digest`);
    return join(this.root, 'blobs', 'sha256', digest.slice('sha256:'.length));
  }

  hasBlob(digest: string): boolean {
    try {
      return fstatRegular(this.blobPath(digest)) !== null;
    } catch {
      return false;
    }
  }

  /** A fresh path in tmp/ for a download (commitBlob moves it into place) or a load's work directory. */
  tempPath(): string {
    return join(this.dir('tmp'), temporaryName(randomBytes(8).toString('hex')));
  }

  /** Moves a verified download into place (a concurrent pull may have stored the same blob first: same bytes). */
  commitBlob(tempPath: string, digest: string): void {
    this.dir(join('blobs', 'sha256'));
    renameSync(tempPath, this.blobPath(digest));
  }

  /** Stores bytes (a manifest, a config) under their digest and returns it. */
  writeBlob(bytes: Buffer): string {
    const digest = sha256(bytes);
    if (this.hasBlob(digest)) return digest;
    const temp = this.tempPath();
    writeFileSync(temp, bytes, { flag: 'wx', mode: 0o644 });
    this.commitBlob(temp, digest);
    return digest;
  }

  /** A stored blob's bytes, at most `limit` of them, checked against its digest. */
  readBlob(digest: string, limit: number): Buffer {
    const path = this.blobPath(digest);
    const bytes = readRegularFile(path, limit);
    if (sha256(bytes) !== digest) throw new MinictrError(`read blob ${path}: its content does not match its digest (the store is damaged)`);
    return bytes;
  }

  /** Where the reference's record is; reading it creates nothing (a failed run leaves the store as it was). */
  private recordPath(name: string): string {
    return join(this.root, 'images', `${sha256(Buffer.from(name)).slice('sha256:'.length)}.json`);
  }

  /** Points the reference `record.name` at its manifest (replacing what it named before, atomically). */
  writeRecord(record: ImageRecord): void {
    const temp = this.tempPath();
    writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
    this.dir('images');
    renameSync(temp, this.recordPath(record.name));
  }

  /** Removes the reference's record (the caller holds the lock). */
  removeRecord(name: string): void {
    try {
      rmSync(this.recordPath(name), { force: true });
    } catch (cause) {
      throw stepError('remove the record of', name, cause);
    }
  }

  /** Takes the store's lock (see the top of this file); call the result to release it. */
  lock(): () => void {
    const fd = nativeAddon().lockDirectory(this.dir('images'));
    return () => closeSync(fd);
  }

  record(name: string): ImageRecord | null {
    try {
      return JSON.parse(readFileSync(this.recordPath(name), 'utf8')) as ImageRecord;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw cause;
    }
  }

  records(): ImageRecord[] {
    let names: string[];
    try {
      names = readdirSync(join(this.root, 'images'));
    } catch {
      return [];
    }
    return names.filter((name) => name.endsWith('.json')).map((name) => JSON.parse(readFileSync(join(this.root, 'images', name), 'utf8')) as ImageRecord);
  }

  /** Removes what killed pulls left in tmp/ and killed unpacks in layers/. */
  removeAbandoned(): void {
    for (const dir of ['tmp', 'layers']) removeStaleTemporaries(join(this.root, dir));
  }
}

/** The size of a regular file, or null; never follows a symlink. */
function fstatRegular(path: string): number | null {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    return stat.isFile() ? stat.size : null;
  } finally {
    closeSync(fd);
  }
}

/** A regular file's content, refusing anything else (FIFO, device, symlink) and anything over `limit` bytes. */
function readRegularFile(path: string, limit: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new MinictrError(`read ${path}: not a regular file`);
    if (stat.size > limit) throw new MinictrError(`read ${path}: ${stat.size} bytes, more than the ${limit} allowed`);
    const bytes = Buffer.alloc(stat.size);
    let offset = 0;
    while (offset < bytes.length) {
      const n = readSync(fd, bytes, offset, bytes.length - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return bytes.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
}
