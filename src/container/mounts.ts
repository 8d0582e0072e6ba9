// A run's volumes, from the parsed flags (volume/spec.ts) to what the child mounts (native/src/mounts.cc):
//   planMounts     at validation: anonymous volumes get their names, --mount bind sources must exist; nothing is
//                  created, so bad input leaves nothing
//   prepareMounts  after the container's record exists (it names every volume, so no `volume rm` can take one from
//                  under it): under the volumes' lock, missing volumes are created (anonymous ones journaled first,
//                  so a failed run or --rm removes them), a volume's first container seeds it from the image, and a
//                  missing -v host path is created as a directory (as Docker does)
//   nativeMounts   the list the child mounts, parents first
// The record keeps the ContainerMounts: `volume rm` and `prune` read which volumes are in use from them, and inspect
// shows them. The journal's `volume` entries name the anonymous ones, removed with the container (journal.ts).

import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { stepError, UsageError } from '../errors.js';
import { nativeAddon, type SpawnOptions } from '../native/index.js';
import { seedVolume } from '../volume/seed.js';
import type { MountRequest } from '../volume/spec.js';
import { createVolume, dataDir, markSeeded, readVolume, withVolumeLock } from '../volume/store.js';
import { newId } from '../ids.js';
import { layersOf, type Root } from './layered-root.js';

/** A mount as the container's record keeps it. */
export interface ContainerMount {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: the host path; volume: its _data directory; tmpfs: "tmpfs". */
  source: string;
  target: string;
  readOnly: boolean;
  /** volume: its name, and whether it is this container's own (anonymous). */
  name?: string;
  anonymous?: boolean;
  /** volume: never seeded from the image (volume-nocopy). */
  noCopy?: boolean;
  /** bind from -v: a missing host path is created as a directory. */
  createSource?: boolean;
  /** tmpfs: its mount options ("size=…,mode=…"). */
  options?: string;
}

function tmpfsOptions(size: number | null, mode: number | null): string {
  return [size === null ? null : `size=${size}`, mode === null ? null : `mode=${mode.toString(8)}`].filter((o) => o !== null).join(',');
}

/** Validation: names anonymous volumes and checks what must exist already. Creates nothing. */
export function planMounts(requests: readonly MountRequest[]): ContainerMount[] {
  return requests.map((request): ContainerMount => {
    switch (request.type) {
      case 'bind': {
        if (!request.createSource && statSync(request.source, { throwIfNoEntry: false }) === undefined) {
          throw new UsageError(`invalid --mount: bind source path does not exist: ${request.source}`);
        }
        const { source, target, readOnly, createSource } = request;
        return { type: 'bind', source, target, readOnly, createSource };
      }
      case 'volume': {
        const name = request.name ?? newId();
        return { type: 'volume', source: dataDir(name), target: request.target, readOnly: request.readOnly, name, anonymous: request.name === null, noCopy: request.noCopy };
      }
      case 'tmpfs':
        return { type: 'tmpfs', source: 'tmpfs', target: request.target, readOnly: request.readOnly, options: tmpfsOptions(request.size, request.mode) };
    }
  });
}

/**
 * Makes what the mounts need on the host (see the file's comment). `journalVolume` is called before an anonymous
 * volume is created. Returns one line per mount for --explain.
 */
export function prepareMounts(mounts: readonly ContainerMount[], root: Root, journalVolume: (name: string) => void): string[] {
  if (mounts.length === 0) return [];
  const isOpaque = layersOf(root).length > 1 ? (dir: string) => nativeAddon().isOpaqueDirectory(dir) : () => false;
  return withVolumeLock(() =>
    mounts.map((mount) => {
      const mode = mount.readOnly ? 'ro' : 'rw';
      if (mount.type === 'bind') {
        if (mount.createSource === true && statSync(mount.source, { throwIfNoEntry: false }) === undefined) {
          try {
            mkdirSync(mount.source, { recursive: true, mode: 0o755 });
          } catch (cause) {
            throw stepError('create the -v host directory', mount.source, cause);
          }
        }
        return `bind ${mount.source} on ${mount.target} (${mode})`;
      }
      if (mount.type === 'tmpfs') return `tmpfs on ${mount.target} (${mode}${mount.options ? `,${mount.options}` : ''})`;
      const name = mount.name!;
      if (mount.anonymous === true) journalVolume(name);
      const created = createVolume(name, mount.anonymous === true);
      let seeded = '';
      if (readVolume(name)?.seeded === false) {
        if (mount.noCopy !== true && readdirSync(mount.source).length === 0) {
          try {
            if (seedVolume(root, mount.target, mount.source, isOpaque)) seeded = `, seeded from the image's ${mount.target}`;
          } catch (cause) {
            throw stepError('seed volume', `${name} from the image's ${mount.target}`, cause);
          }
        }
        markSeeded(name);
      }
      return `volume ${name}${created ? ' (created)' : ''} on ${mount.target} (${mode})${seeded}`;
    }),
  );
}

/** What the child mounts, in order. */
export function nativeMounts(mounts: readonly ContainerMount[]): SpawnOptions['mounts'] {
  return mounts.map((mount) => ({
    kind: mount.type === 'tmpfs' ? 'tmpfs' : 'bind',
    source: mount.source,
    target: mount.target,
    readOnly: mount.readOnly,
    data: mount.options ?? '',
  }));
}
