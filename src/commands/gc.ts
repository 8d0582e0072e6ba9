// `minictr gc`: tear down containers whose minictr process is gone. Prints the ids collected, one per line.

import { collectGarbage } from '../container/gc.js';

export async function gc(): Promise<number> {
  for (const id of await collectGarbage()) process.stdout.write(`${id}\n`);
  return 0;
}
