// `minictr save [-o FILE] IMAGE...`: images as one archive (Docker 25+'s form: docker save's manifest.json and an
// OCI image layout), to FILE or to stdout.

import { saveImages } from '../image/save.js';
import { ImageStore } from '../image/store.js';
import { writeArchive } from './archive-io.js';

export async function save(refs: string[], flags: { output?: string }): Promise<number> {
  const store = new ImageStore();
  await writeArchive(flags.output, (out) => saveImages(store, refs, out));
  return 0;
}
