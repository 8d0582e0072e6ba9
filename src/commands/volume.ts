// `minictr volume create|ls|inspect|rm|prune`: the named-volume store (volume/store.ts) as Docker's CLI shows it.
// Whether a volume is in use is read from the containers' records, exited containers included, as Docker counts.

import { MinictrError } from '../errors.js';
import { table } from '../format.js';
import { newId } from '../ids.js';
import { checkVolumeName } from '../volume/spec.js';
import { assertUnused, createVolume, dataDir, existingVolume, listVolumes, readVolume, removeVolume, volumeSize, volumeUsers, withVolumeLock } from '../volume/store.js';

export async function create(name: string | undefined): Promise<number> {
  const chosen = name === undefined ? newId() : checkVolumeName(name, 'volume create');
  withVolumeLock(() => createVolume(chosen, false)); // an existing volume is fine, as in Docker
  process.stdout.write(`${chosen}\n`);
  return 0;
}

export async function ls(flags: { quiet?: boolean }): Promise<number> {
  const volumes = listVolumes();
  if (flags.quiet) process.stdout.write(volumes.map((volume) => `${volume.name}\n`).join(''));
  else process.stdout.write(table([['DRIVER', 'VOLUME NAME'], ...volumes.map((volume) => ['local', volume.name])]));
  return 0;
}

/** Docker's fields, plus which containers use the volume. */
export async function inspect(names: string[]): Promise<number> {
  const records = names.map((name) => existingVolume(checkVolumeName(name, 'volume inspect')));
  const shown = records.map((record) => ({
    CreatedAt: record.createdAt,
    Driver: 'local',
    Labels: record.anonymous ? { 'com.docker.volume.anonymous': '' } : {},
    Mountpoint: dataDir(record.name),
    Name: record.name,
    Options: null,
    Scope: 'local',
    UsedBy: volumeUsers(record.name),
  }));
  process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
  return 0;
}

/**
 * Every name is checked before any is removed: a typo or a volume in use removes nothing. A name is a volume's
 * name, never a path (`../x` would rename and delete a host directory that holds a volume.json).
 */
export async function rm(names: string[], flags: { force?: boolean }): Promise<number> {
  for (const name of names) checkVolumeName(name, 'volume rm');
  withVolumeLock(() => {
    for (const name of names) {
      if (readVolume(name) !== null) assertUnused(name);
      else if (!flags.force) throw new MinictrError(`no such volume: ${name}`, 'lookup');
    }
    for (const name of names) if (removeVolume(name)) process.stdout.write(`${name}\n`);
  });
  return 0;
}

export async function prune(flags: { all?: boolean }): Promise<number> {
  const removed: { name: string; bytes: number }[] = [];
  withVolumeLock(() => {
    for (const volume of listVolumes()) {
      if ((!volume.anonymous && !flags.all) || volumeUsers(volume.name).length > 0) continue;
      const bytes = volumeSize(volume.name);
      if (removeVolume(volume.name)) removed.push({ name: volume.name, bytes });
    }
  });
  const total = removed.reduce((sum, volume) => sum + volume.bytes, 0);
  process.stdout.write(
    `${removed.length > 0 ? `Deleted Volumes:\n${removed.map((volume) => `${volume.name}\n`).join('')}\n` : ''}Total reclaimed space: ${total}B\n`,
  );
  return 0;
}
