// Named volumes, on disk as Docker keeps them:
//
//   /var/lib/minictr/volumes/<name>/_data        what containers see (bind-mounted on their path)
//   /var/lib/minictr/volumes/<name>/volume.json  {name, createdAt, anonymous, seeded}
//
// A volume appears whole: it is built as .tmp-<pid>-… beside and renamed into place, so a directory under a volume
// name always has its record; a removal renames it to .tmp-<pid>-rm-… first. Either left by a crash is swept by the
// next creation or removal (removeStaleTemporaries). Which containers use a volume is read from their records
// (config.mounts, written before any volume is made or mounted), never kept here: nothing can go stale.
//
// Creating, seeding and removing take turns through an flock on the volumes directory: a removal checks that no
// container record names the volume and renames it away under the lock, and a run writes its record before it
// takes the lock to prepare its volumes. So a volume is never removed under a container about to mount it, and
// only the first container of a volume seeds it, before any container can write into it (see container/mounts.ts).

import { closeSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError, stepError } from '../errors.js';
import { nativeAddon } from '../native/index.js';
import { PATHS } from '../paths.js';
import { listContainerDirs } from '../container/state.js';
import { removeStaleTemporaries, temporaryName } from '../sys/exclusive-file.js';

export interface VolumeRecord {
  name: string;
  createdAt: string;
  /** Made for one container (-v CTR, --mount without source): removed with it by --rm and rm -v. */
  anonymous: boolean;
  /** The image's content at the first container's path has been copied in (or there was none, or nocopy). */
  seeded: boolean;
}

export function volumeDir(name: string): string {
  return join(PATHS.volumes, name);
}

export function dataDir(name: string): string {
  return join(volumeDir(name), '_data');
}

export function readVolume(name: string): VolumeRecord | null {
  try {
    return JSON.parse(readFileSync(join(volumeDir(name), 'volume.json'), 'utf8')) as VolumeRecord;
  } catch {
    return null;
  }
}

/** Every volume, by name. */
export function listVolumes(): VolumeRecord[] {
  let names: string[];
  try {
    names = readdirSync(PATHS.volumes);
  } catch {
    return [];
  }
  return names
    .filter((name) => !name.startsWith('.'))
    .sort()
    .flatMap((name) => {
      const record = readVolume(name);
      return record === null ? [] : [record];
    });
}

/** Runs `action` holding the volumes' lock (see the file's comment). */
export function withVolumeLock<T>(action: () => T): T {
  // The data root first, root's alone: the volumes directory lets others through (0701), and a volume holds what
  // containers wrote, setuid programs included; made by a recursive 0701 mkdir, no host user would be kept out.
  mkdirSync(PATHS.data, { recursive: true, mode: 0o700 });
  mkdirSync(PATHS.volumes, { recursive: true, mode: 0o701 });
  const lock = nativeAddon().lockDirectory(PATHS.volumes);
  try {
    removeStaleTemporaries(PATHS.volumes);
    return action();
  } finally {
    closeSync(lock);
  }
}

/** Creates the volume; false when it exists already. Call under the lock. */
export function createVolume(name: string, anonymous: boolean): boolean {
  if (readVolume(name) !== null) return false;
  const building = join(PATHS.volumes, temporaryName(name));
  try {
    mkdirSync(join(building, '_data'), { recursive: true, mode: 0o755 });
    const record: VolumeRecord = { name, createdAt: new Date().toISOString(), anonymous, seeded: false };
    writeFileSync(join(building, 'volume.json'), `${JSON.stringify(record, null, 2)}\n`);
    renameSync(building, volumeDir(name));
    return true;
  } catch (cause) {
    rmSync(building, { recursive: true, force: true });
    throw stepError('create volume', volumeDir(name), cause);
  }
}

export function markSeeded(name: string): void {
  const record = readVolume(name);
  if (record === null) return;
  writeFileSync(join(volumeDir(name), 'volume.json'), `${JSON.stringify({ ...record, seeded: true }, null, 2)}\n`);
}

/** The containers (ids, exited ones included) whose record mounts the volume. */
export function volumeUsers(name: string): string[] {
  return listContainerDirs().flatMap((entry) =>
    (entry.record?.config.mounts ?? []).some((mount) => mount.type === 'volume' && mount.name === name) ? [entry.id] : [],
  );
}

/** Throws when a container other than `owner` has the volume in its record (Docker's exit status 1). */
export function assertUnused(name: string, owner: string | null = null): void {
  const users = volumeUsers(name).filter((id) => id !== owner);
  if (users.length > 0) {
    throw new MinictrError(`cannot remove volume ${name}: it is in use by container ${users.map((id) => id.slice(0, 12)).join(', ')}`, 'lookup');
  }
}

/**
 * Removes the volume, refused while a container (running or exited) other than `owner` (the one whose anonymous
 * volume it is, being removed) has it in its record. Returns false when it does not exist. Call under the lock.
 */
export function removeVolume(name: string, owner: string | null = null): boolean {
  if (readVolume(name) === null) return false;
  assertUnused(name, owner);
  const tombstone = join(PATHS.volumes, temporaryName(`rm-${name}`));
  try {
    renameSync(volumeDir(name), tombstone);
    rmSync(tombstone, { recursive: true, force: true });
  } catch (cause) {
    throw stepError('remove volume', volumeDir(name), cause);
  }
  return true;
}

/**
 * Removes an anonymous volume of container `id` (--rm, rm -v, a failed run). Another container that mounts it by
 * name keeps it (for `volume prune` later): refusing would fail this container's teardown, and gc's every retry.
 */
export function removeAnonymousVolume(name: string, id: string): void {
  withVolumeLock(() => {
    if (volumeUsers(name).every((user) => user === id)) removeVolume(name, id);
  });
}

/** Bytes the volume's files take (du's apparent size), for prune's report. */
export function volumeSize(name: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else total += statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  try {
    walk(dataDir(name));
  } catch {
    // unreadable: counted as what was read
  }
  return total;
}

/** The name a user gave, checked against the store. */
export function existingVolume(name: string): VolumeRecord {
  const record = readVolume(name);
  if (record === null) throw new MinictrError(`no such volume: ${name}`, 'lookup');
  return record;
}
