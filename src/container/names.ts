// --name reservations: one O_EXCL file per name under /run/minictr/names holding the container id, so two runs can
// never take the same name, with no lock.

import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { createExclusive, ownerOf, removeIfOwned } from '../sys/exclusive-file.js';
import { NAMES_DIR } from './state.js';

export function claimName(name: string, id: string): void {
  if (!createExclusive(join(NAMES_DIR, name), id)) {
    const holder = ownerOf(join(NAMES_DIR, name)) ?? '(unknown)';
    throw new UsageError(`the container name "${name}" is already in use by container ${holder.slice(0, 12)}`);
  }
}

export function releaseName(name: string, id: string): void {
  removeIfOwned(join(NAMES_DIR, name), id);
}
