// What `minictr run IMAGE` needs of an image before anything of the container exists: the image in the store
// (pulled first when missing, or always, as --pull says), its layers unpacked, and its config. A failed pull says
// why, and how to run a command of the built-in rootfs instead.

import { isatty } from 'node:tty';
import { MinictrError, UsageError } from '../errors.js';
import { runImage } from './layers.js';
import type { Platform, RunConfig } from './manifest.js';
import { formatReference, parseReference } from './reference.js';
import { ImageStore, type ImageRecord } from './store.js';

export type PullPolicy = 'missing' | 'always' | 'never';

export function parsePullPolicy(value: string | undefined): PullPolicy {
  const policy = value ?? 'missing';
  if (policy !== 'missing' && policy !== 'always' && policy !== 'never') {
    throw new UsageError(`invalid --pull "${policy}": missing, always or never`);
  }
  return policy;
}

export interface ResolvedImage {
  record: ImageRecord;
  /** The unpacked layers' directories, topmost first (overlayfs's lowerdir order). */
  layers: string[];
  /** The config's fields a run takes (as `config` of the image's config). */
  config: { config: RunConfig };
}

const HINT = 'to run a program of the built-in busybox rootfs instead, give its absolute path: minictr run /bin/sh';

export async function resolveImage(text: string, options: { pull: PullPolicy; platform: Platform | null; insecureRegistries: string[] }, store = new ImageStore()): Promise<ResolvedImage> {
  const name = formatReference(parseReference(text));
  let record = options.pull === 'always' ? null : store.record(name);
  if (record === null) {
    if (options.pull === 'never') throw new UsageError(`image ${text} is not in the store, and --pull never forbids pulling it; ${HINT}`);
    const { pullImage } = await import('./pull.js'); // the registry client loads only to pull
    try {
      record = await pullImage(text, { platform: options.platform, insecureRegistries: options.insecureRegistries, progress: isatty(2) });
    } catch (cause) {
      if (!(cause instanceof MinictrError)) throw cause;
      throw new MinictrError(`pull ${text}: ${cause.message}; ${HINT}`, 'failure', cause);
    }
  }
  const { layers, config } = await runImage(store, record);
  return { record, layers: [...layers].reverse(), config: { config } };
}
