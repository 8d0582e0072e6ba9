// `minictr rmi [-f] IMAGE...` and `minictr image prune [-a]`: removing images under Docker's rules (image/remove.ts),
// printing what was untagged and deleted as Docker does. rmi goes through every image named, then exits 1 if any
// was refused or missing (each refusal printed, naming the container in the way), 125 if a reference was malformed.

import { currentContainers } from '../container/lookup.js';
import { byteSize } from '../format.js';
import { error } from '../log.js';
import { pruneImages, removeImages, type Removal } from '../image/remove.js';
import { familiarReference } from '../image/reference.js';
import { ImageStore } from '../image/store.js';

function report(removal: Removal, prefix: { untagged: string; deleted: string }): void {
  for (const name of removal.untagged) process.stdout.write(`${prefix.untagged}${familiarReference(name)}\n`);
  for (const id of removal.deleted) process.stdout.write(`${prefix.deleted}${id}\n`);
}

export async function rmi(refs: string[], flags: { force?: boolean }): Promise<number> {
  const containers = await currentContainers({ all: true });
  const { removal, errors } = removeImages(new ImageStore(), refs, flags.force ?? false, containers);
  report(removal, { untagged: 'Untagged: ', deleted: 'Deleted: ' });
  for (const failure of errors) error(failure.message);
  if (errors.some((failure) => failure.kind === 'usage')) return 125; // a malformed reference: bad input
  return errors.length > 0 ? 1 : 0;
}

export async function prune(flags: { all?: boolean; force?: boolean }): Promise<number> {
  const containers = await currentContainers({ all: true });
  const removal = pruneImages(new ImageStore(), flags.all ?? false, containers);
  if (removal.untagged.length + removal.deleted.length > 0) {
    process.stdout.write('Deleted Images:\n');
    report(removal, { untagged: 'untagged: ', deleted: 'deleted: ' });
    process.stdout.write('\n');
  }
  process.stdout.write(`Total reclaimed space: ${byteSize(removal.swept.bytes)}\n`);
  return 0;
}
