// The built-in busybox rootfs as an image: `minictr/busybox:builtin` (a name minictr reserves: an image of that
// name elsewhere cannot be pulled or run by it) is listed by `images`, runs with `run minictr/busybox:builtin [COMMAND]`, and is what
// `ps` shows for a container of an absolute-path command. It is minictr's own directory, not in the store: rmi
// refuses it. And how `ps` names any container's image.

import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MinictrError } from '../errors.js';
import { familiarReference, formatReference, parseReference } from './reference.js';
import type { ImageSummary } from './images.js';

export const BUILTIN_IMAGE = 'minictr/busybox:builtin';
/** Its full reference, as records and summaries name images. */
export const BUILTIN_NAME = 'docker.io/minictr/busybox:builtin';
/** What `run minictr/busybox:builtin` runs without a command (busybox's image runs sh). */
export const BUILTIN_COMMAND = ['/bin/sh'];

/** Whether `text` names the built-in image (`minictr/busybox:builtin`, `docker.io/minictr/busybox:builtin`). */
export function isBuiltinImage(text: string): boolean {
  if (!text.includes('minictr/busybox')) return false;
  try {
    return formatReference(parseReference(text)) === BUILTIN_NAME;
  } catch {
    return false;
  }
}

/** Refuses a name of `names` that is the built-in image's: no image of the store may take it (rmi could not remove it). */
export function refuseBuiltinName(names: readonly string[], what: string): void {
  if (names.some(isBuiltinImage)) throw new MinictrError(`${what}: ${BUILTIN_IMAGE} is minictr's built-in rootfs; no image of the store may take its name`, 'usage');
}

/** `images`'s row for the built-in rootfs at `dir`: created when it was built, its size the files' total; null if unbuilt. */
export function builtinSummary(dir: string): ImageSummary | null {
  let built: Date;
  try {
    built = statSync(dir).mtime;
  } catch {
    return null; // not built (npm run rootfs): nothing to list
  }
  return {
    name: BUILTIN_NAME,
    repository: 'minictr/busybox',
    tag: 'builtin',
    digest: null,
    id: 'builtin',
    created: built.toISOString(),
    size: treeSize(dir),
  };
}

function treeSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += treeSize(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/** A container's image as `ps` shows it: the reference in Docker's short form, or the rootfs directory it runs. */
export function imageLabel(image: { name: string } | null, rootfs: string, defaultRootfs: string): string {
  if (image !== null) return familiarReference(image.name);
  return rootfs === defaultRootfs ? BUILTIN_IMAGE : rootfs;
}
