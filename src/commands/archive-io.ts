// Where `load`, `import` and `save` read or write an archive: a named file, or stdin/stdout (never a terminal:
// a tar is not for a screen, and reading one from a keyboard would wait forever, so Docker refuses both).

import { createReadStream, createWriteStream, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { isatty } from 'node:tty';
import { MinictrError, stepError, UsageError } from '../errors.js';
import { temporaryName } from '../sys/exclusive-file.js';

/** The archive at `path`, or stdin for undefined or `-`; `flag` names where it was given, for the error. */
export function openArchive(path: string | undefined, flag: string): { stream: Readable; what: string } {
  if (path !== undefined && path !== '-') {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (cause) {
      throw stepError('open', path, cause, 'usage');
    }
    return { stream: createReadStream('', { fd }), what: path };
  }
  if (isatty(0)) throw new UsageError(`requested to read an archive from stdin, but stdin is a terminal: give ${flag} or redirect stdin`);
  // process.stdin is a stand-in (stdio.ts): the descriptor itself is read.
  return { stream: createReadStream('', { fd: 0, autoClose: false }), what: 'stdin' };
}

/**
 * Calls `write` with a stream to `path` (a temporary file beside it, renamed to it once `write` succeeds: a failure
 * leaves nothing), or to stdout when `path` is undefined.
 */
export async function writeArchive(path: string | undefined, write: (out: Writable) => Promise<void>): Promise<void> {
  if (path === undefined) {
    if (isatty(1)) throw new UsageError('cowardly refusing to write an archive to a terminal: use -o or redirect stdout');
    await write(process.stdout);
    return;
  }
  const temp = join(dirname(path), temporaryName(basename(path)));
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o644 });
  try {
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', reject);
    });
    await write(out);
    await new Promise<void>((resolve, reject) => out.end((cause?: Error | null) => (cause ? reject(cause) : resolve())));
    renameSync(temp, path);
  } catch (cause) {
    out.destroy();
    rmSync(temp, { force: true });
    throw cause instanceof MinictrError ? cause : stepError('write', path, cause);
  }
}
