// Finding the image a user names, as Docker does for rmi and save: a reference (`nginx`, `demo/app:v2`,
// `repo@sha256:…`), else an image id (the config's digest: `sha256:<64 hex>`, the 64 hex digits, or a unique
// prefix of them, as `images` prints 12).

import { MinictrError } from '../errors.js';
import { formatReference, parseReference } from './reference.js';
import type { ImageRecord, ImageStore } from './store.js';

export interface FoundImage {
  /** The config's digest. */
  id: string;
  /** The name given (one record), or every name of the image when an id was given. */
  records: ImageRecord[];
  byId: boolean;
}

const FULL_ID = /^(?:sha256:)?([0-9a-f]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([0-9a-f]{1,63})$/;

export function findImage(store: ImageStore, ref: string, records: ImageRecord[] = store.records()): FoundImage {
  const full = FULL_ID.exec(ref);
  if (full === null) {
    const name = formatReference(parseReference(ref)); // a malformed reference is an error even in an empty store
    const named = records.find((record) => record.name === name);
    if (named !== undefined) return { id: named.config, records: [named], byId: false };
  }
  const prefix = (full ?? ID_PREFIX.exec(ref))?.[1];
  const ids = prefix === undefined ? [] : [...new Set(records.map((record) => record.config).filter((id) => id.startsWith(`sha256:${prefix}`)))];
  if (ids.length > 1) throw new MinictrError(`image id prefix "${ref}" is ambiguous: ${ids.map((id) => id.slice(7, 19)).join(', ')}`, 'lookup');
  if (ids.length === 0) throw new MinictrError(`No such image: ${ref}`, 'lookup');
  return { id: ids[0]!, records: records.filter((record) => record.config === ids[0]), byId: true };
}
