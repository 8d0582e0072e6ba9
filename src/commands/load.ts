// `minictr load [-i FILE]`: the images of a `docker save` archive or an OCI image-layout archive (Docker 25+'s
// holds both) into the store; from stdin without -i. Prints "Loaded image: NAME" per name, as docker load does.

import { hostPlatform, parsePlatform } from '../image/manifest.js';
import { loadArchive } from '../image/load.js';
import { familiarReference } from '../image/reference.js';
import { ImageStore } from '../image/store.js';
import { openArchive } from './archive-io.js';

export async function load(flags: { input?: string; platform?: string }): Promise<number> {
  const platform = flags.platform === undefined ? hostPlatform() : parsePlatform(flags.platform);
  const { stream, what } = openArchive(flags.input, '-i FILE');
  const records = await loadArchive(stream, what, new ImageStore(), platform);
  for (const record of records) process.stdout.write(`Loaded image: ${familiarReference(record.name)}\n`);
  return 0;
}
