// Container ids as Docker has them: 64 random hex digits, shown as the first 12.

import { randomBytes } from './sys/random.js';

const SHORT_ID_LENGTH = 12;

export function newId(): string {
  return randomBytes(32).toString('hex');
}

/** A whole container id (what `run -d` prints), as opposed to a prefix or a name. */
export const FULL_ID = /^[0-9a-f]{64}$/;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}
