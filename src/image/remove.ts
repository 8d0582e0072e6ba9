// `minictr rmi` and `minictr image prune`: removing images under Docker's rules, then what no image needs any more
// (sweep.ts). An image is in use while a container made from it exists (its record's config.image.id is the image's
// id), running or exited:
//   - a name of an image that has other names is only untagged, whatever uses the image
//   - the last name, or an id: refused while a running (or starting) container uses the image, even with -f (Docker:
//     "cannot be forced"); refused while an exited one does, unless -f (an exited container keeps no layer: minictr
//     removes its writable layer at exit and reads nothing of its image afterwards)
//   - an id that several names share: refused unless -f, which removes them all
// Each step runs under the store's lock, so no pull commits in the middle of it. A container started from the
// image between the check and the removal is not seen (there is no lock across `run`): its start then fails on the
// missing layers, it never runs on a partial one.

import { MinictrError } from '../errors.js';
import type { ContainerInfo } from '../container/lookup.js';
import { BUILTIN_IMAGE, isBuiltinImage } from './builtin.js';
import { findImage } from './find.js';
import type { ImageRecord, ImageStore } from './store.js';
import { sweepUnreferenced, type Swept } from './sweep.js';

export interface Removal {
  untagged: string[];
  /** Ids of images removed whole. */
  deleted: string[];
  swept: Swept;
}

function short(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Why the image `id` (named `ref`) must stay, or null. */
function conflict(ref: string, id: string, containers: readonly ContainerInfo[], force: boolean): string | null {
  const users = containers.filter((c) => c.image?.id === id);
  const running = users.find((c) => c.status !== 'exited');
  const label = (c: ContainerInfo) => `${c.id.slice(0, 12)}${c.name !== null ? ` (${c.name})` : ''}`;
  if (running !== undefined) return `unable to delete ${ref} (cannot be forced): image ${short(id)} is being used by running container ${label(running)}`;
  if (users.length > 0 && !force) return `unable to remove ${ref} (must force): container ${label(users[0]!)} uses image ${short(id)}; remove the container first (minictr rm), or use -f`;
  return null;
}

/** Removes what `ref` names; throws (kind lookup: exit 1) when Docker's rules refuse it. The caller holds the lock. */
function removeOne(store: ImageStore, ref: string, force: boolean, containers: readonly ContainerInfo[], into: Removal): void {
  if (isBuiltinImage(ref)) throw new MinictrError(`unable to remove ${BUILTIN_IMAGE}: it is minictr's built-in rootfs, not an image of the store`, 'lookup');
  const records = store.records();
  const found = findImage(store, ref, records);
  const names = records.filter((record) => record.config === found.id);
  if (!found.byId && names.length > 1) {
    store.removeRecord(found.records[0]!.name);
    into.untagged.push(found.records[0]!.name);
    return;
  }
  if (found.byId && names.length > 1 && !force) {
    throw new MinictrError(`unable to delete ${short(found.id)} (must be forced): the image has ${names.length} names: ${names.map((r) => r.name).join(', ')}`, 'lookup');
  }
  const why = conflict(ref, found.id, containers, force);
  if (why !== null) throw new MinictrError(why, 'lookup');
  for (const record of names) {
    store.removeRecord(record.name);
    into.untagged.push(record.name);
  }
  into.deleted.push(found.id);
}

/** `rmi`: each reference in turn (a refusal or a bad reference does not stop the others); the errors come back with what was done. */
export function removeImages(store: ImageStore, refs: string[], force: boolean, containers: readonly ContainerInfo[]): { removal: Removal; errors: MinictrError[] } {
  const removal: Removal = { untagged: [], deleted: [], swept: { blobs: 0, layers: 0, bytes: 0 } };
  const errors: MinictrError[] = [];
  const release = store.lock();
  try {
    for (const ref of refs) {
      try {
        removeOne(store, ref, force, containers, removal);
      } catch (cause) {
        if (!(cause instanceof MinictrError)) throw cause;
        errors.push(cause);
      }
    }
    removal.swept = sweepUnreferenced(store);
  } finally {
    release();
  }
  return { removal, errors };
}

/** `image prune`: dangling images (`all`: every image) that no container uses. */
export function pruneImages(store: ImageStore, all: boolean, containers: readonly ContainerInfo[]): Removal {
  const removal: Removal = { untagged: [], deleted: [], swept: { blobs: 0, layers: 0, bytes: 0 } };
  const used = new Set(containers.flatMap((c) => (c.image ? [c.image.id] : [])));
  const release = store.lock();
  try {
    const records = store.records();
    const prunable = (record: ImageRecord) => !used.has(record.config) && (all || record.untagged === true);
    for (const record of records.filter(prunable)) {
      store.removeRecord(record.name);
      if (record.untagged !== true) removal.untagged.push(record.name);
    }
    const left = new Set(store.records().map((record) => record.config));
    removal.deleted = [...new Set(records.filter(prunable).map((record) => record.config))].filter((id) => !left.has(id));
    removal.swept = sweepUnreferenced(store);
  } finally {
    release();
  }
  return removal;
}
