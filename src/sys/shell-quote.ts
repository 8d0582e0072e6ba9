// Shell words for the --dry-run script, which root runs: every value in it, comments included, goes through
// shellQuote. A word never spans lines, so no value can end a comment or a here-document (a line of its own reading
// MINICTR_CHILD) and start a command of its own; and it means exactly the value's bytes, UTF-8 or not.
//
//   safe characters only                   as it is:        /bin/sh
//   printable text                         single quotes:   'it'\''s $(not run)'
//   control characters, bytes not UTF-8    bash's $'...':   $'x\x0atouch /tmp/x'
//
// $'...' is bash's (and ksh's and zsh's), not POSIX sh's: the script runs under bash.

import { decodeBytes, encodeBytes } from './bytes.js';

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** What $'...' spells out: control characters (C0, DEL, C1), invisible format characters, line and paragraph
 * separators, and bytes that are not UTF-8 (lone surrogates, see bytes.ts). */
const SPELLED_OUT = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

/** A shell word, on one line, that means exactly `value` (a string as bytes.ts decodes them, or the bytes). */
export function shellQuote(value: string | Uint8Array): string {
  const text = typeof value === 'string' ? value : decodeBytes(value);
  if (SAFE.test(text)) return text;
  if (!SPELLED_OUT.test(text)) return `'${text.replace(/'/g, `'\\''`)}'`;
  let word = "$'";
  for (const byte of typeof value === 'string' ? encodeBytes(value) : value) {
    if (byte === 0x27 || byte === 0x5c) word += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) word += String.fromCharCode(byte);
    else word += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${word}'`;
}
