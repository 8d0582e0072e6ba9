// Strings that carry arbitrary bytes. Node decodes its argv and environment as UTF-8 and turns every byte that is
// not valid UTF-8 into U+FFFD, so `minictr run echo $'\xff'` would hand the container EF BF BD instead of FF. The
// kernel keeps the bytes (/proc/self/cmdline, /proc/self/environ), and minictr reads them from there.
//
// Bytes are decoded as Python's "surrogateescape" does: valid UTF-8 becomes the same string Node would make, and each
// byte 0x80-0xFF that is not part of valid UTF-8 becomes the lone surrogate U+DC80-U+DCFF, which no valid UTF-8 can
// produce. Ordinary text is thus unchanged, JSON keeps the lone surrogates ("\udcff"), and encodeBytes gives back the
// exact bytes where they reach the kernel (the addon takes argv and env as Buffers).

import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/** A byte 0x80-0xFF that was not valid UTF-8, as decodeBytes left it: a low surrogate without its high half. */
const ESCAPED_BYTE = /(?<![\ud800-\udbff])[\udc80-\udcff]/g;

/** The length of the UTF-8 sequence `lead` starts, or 0 when no sequence starts with it. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  return lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
}

export function decodeBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let text = '';
  for (let at = 0; at < buffer.length; ) {
    const sequence = buffer.subarray(at, at + sequenceLength(buffer[at]!));
    const char = sequence.toString('utf8');
    // Valid exactly when it encodes back to itself (overlong forms, surrogates and truncated ones decode to U+FFFD).
    if (sequence.length > 0 && Buffer.from(char).equals(sequence)) {
      text += char;
      at += sequence.length;
    } else {
      text += String.fromCharCode(0xdc00 + buffer[at]!);
      at += 1;
    }
  }
  return text;
}

/** The bytes decodeBytes made `text` from (any other lone surrogate becomes U+FFFD, as Buffer.from makes it). */
export function encodeBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  for (const match of text.matchAll(ESCAPED_BYTE)) {
    parts.push(Buffer.from(text.slice(start, match.index)), Buffer.of(match[0].charCodeAt(0) - 0xdc00));
    start = match.index + 1;
  }
  if (parts.length === 0) return Buffer.from(text);
  parts.push(Buffer.from(text.slice(start)));
  return Buffer.concat(parts);
}

/** The NUL-terminated strings of a /proc file such as cmdline or environ, as bytes. */
function procStrings(path: string): Buffer[] {
  const data = readFileSync(path);
  const strings: Buffer[] = [];
  for (let start = 0; start < data.length; ) {
    const end = data.indexOf(0, start);
    strings.push(data.subarray(start, end < 0 ? data.length : end));
    start = end < 0 ? data.length : end + 1;
  }
  return strings;
}

/**
 * `argv` (process.argv: node, the script, then the user's arguments) with the user's arguments decoded from
 * /proc/self/cmdline, byte for byte. /proc is read only when Node lost a byte (some argument holds U+FFFD). The
 * command line there is node, Node's own options, the script, then the same arguments: each is checked against
 * Node's decoding, so a command line that does not line up (changed since start-up) leaves `argv` as it is.
 */
export function rawArgv(argv: readonly string[]): string[] {
  const count = argv.length - 2;
  if (!argv.slice(2).some((arg) => arg.includes('\ufffd'))) return [...argv];
  const raw = procStrings('/proc/self/cmdline').slice(-count);
  if (raw.length !== count || raw.some((bytes, i) => bytes.toString('utf8') !== argv[2 + i])) return [...argv];
  return [...argv.slice(0, 2), ...raw.map(decodeBytes)];
}

/** `env` (process.env) with the values Node decoded lossily taken byte for byte from /proc/self/environ. */
export function rawEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!Object.values(env).some((value) => value?.includes('\ufffd'))) return env;
  const exact: NodeJS.ProcessEnv = { ...env };
  for (const entry of procStrings('/proc/self/environ')) {
    const eq = entry.indexOf('=');
    if (eq < 0) continue;
    const key = entry.subarray(0, eq).toString('utf8');
    // Only where Node's value is this entry's, decoded: a variable changed since start-up stays as it is now.
    if (env[key] === entry.subarray(eq + 1).toString('utf8')) exact[key] = decodeBytes(entry.subarray(eq + 1));
  }
  return exact;
}
