// `minictr images`: the images in the store, as `docker images` lists them (REPOSITORY, TAG, IMAGE ID, CREATED,
// SIZE), their ids only (-q), or JSON. IMAGE ID is the config's digest, as Docker's; SIZE is what the layers
// take compressed, as downloaded.

import { duration, table } from '../format.js';
import { listImages } from '../image/images.js';

export async function images(flags: { quiet?: boolean; format?: string }): Promise<number> {
  const list = listImages();
  if (flags.quiet) {
    for (const id of new Set(list.map((image) => image.id.slice(7, 19)))) process.stdout.write(`${id}\n`);
  } else if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else {
    const rows = list.map((image) => [
      image.repository,
      image.tag ?? '<none>',
      image.id.slice(7, 19),
      image.created === null ? 'N/A' : `${duration(image.created)} ago`,
      megabytes(image.size),
    ]);
    process.stdout.write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  }
  return 0;
}

function megabytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)}GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)}MB` : `${(bytes / 1e3).toFixed(1)}kB`;
}
