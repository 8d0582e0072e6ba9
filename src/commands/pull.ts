// `minictr pull REF`: an image from a registry into the store. Progress lines go to stderr when it is a terminal;
// stdout gets the full reference once the image is stored (data, as `docker pull -q` prints).

import { isatty } from 'node:tty';
import { parsePlatform } from '../image/manifest.js';
import { pullImage } from '../image/pull.js';

export async function pull(reference: string, flags: { platform?: string; insecureRegistry: string[]; quiet?: boolean }): Promise<number> {
  const record = await pullImage(reference, {
    platform: flags.platform === undefined ? null : parsePlatform(flags.platform),
    insecureRegistries: flags.insecureRegistry,
    progress: !flags.quiet && isatty(2),
  });
  if (!flags.quiet) process.stderr.write(`Digest: ${record.manifest}\n`);
  process.stdout.write(`${record.name}\n`);
  return 0;
}
