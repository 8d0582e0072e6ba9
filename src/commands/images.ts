// `minictr images`: the images in the store, as `docker images` lists them (REPOSITORY, TAG, IMAGE ID, CREATED,
// SIZE), their ids only (-q), or JSON. IMAGE ID is the config's digest, as Docker's; SIZE is what the layers
// take compressed, as downloaded. The built-in rootfs is listed as minictr/busybox:builtin, but not by -q, whose ids
// feed rmi (which cannot remove it).

import { defaultRootfs } from '../container/rootfs.js';
import { byteSize, duration, table } from '../format.js';
import { listImages } from '../image/images.js';

export async function images(flags: { quiet?: boolean; format?: string }): Promise<number> {
  const list = listImages(undefined, flags.quiet ? null : defaultRootfs());
  if (flags.quiet) {
    for (const id of new Set(list.map((image) => image.id.slice(7, 19)))) process.stdout.write(`${id}\n`);
  } else if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  } else {
    const rows = list.map((image) => [
      image.repository,
      image.tag ?? '<none>',
      image.id.replace(/^sha256:/, '').slice(0, 12),
      image.created === null ? 'N/A' : `${duration(image.created)} ago`,
      byteSize(image.size),
    ]);
    process.stdout.write(table([['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], ...rows]));
  }
  return 0;
}
