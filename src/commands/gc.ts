// `minictr gc`: tear down containers whose minictr process is gone. Prints the ids collected, one per line. Then the
// image store: what killed pulls, loads and unpacks left in tmp/ and layers/, and blobs and layers no image names
// (a load killed after storing some of its blobs), so that the store is as before the killed command.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { collectGarbage } from '../container/gc.js';
import { ImageStore } from '../image/store.js';
import { sweepUnreferenced } from '../image/sweep.js';

export async function gc(): Promise<number> {
  for (const id of await collectGarbage()) process.stdout.write(`${id}\n`);
  const store = new ImageStore();
  if (['tmp', 'blobs', 'layers'].some((dir) => existsSync(join(store.root, dir)))) {
    store.removeAbandoned();
    const release = store.lock();
    try {
      sweepUnreferenced(store);
    } finally {
      release();
    }
  }
  return 0;
}
