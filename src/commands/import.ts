// `minictr import FILE|- REFERENCE`: a root filesystem tar as a one-layer image, as `docker import` makes one. Prints
// the new image's id.

import { importRootfs } from '../image/import.js';
import { ImageStore } from '../image/store.js';
import { openArchive } from './archive-io.js';

export async function importImage(file: string, reference: string): Promise<number> {
  const { stream, what } = openArchive(file, 'a FILE');
  const record = await importRootfs(stream, reference, what, new ImageStore());
  process.stdout.write(`${record.config}\n`);
  return 0;
}
