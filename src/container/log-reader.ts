// Reading a detached container's log (written by native/src/monitor.cc): one record per line,
// "<RFC 3339 time> <stdout|stderr> <F|P> <bytes>", F for a full line, P for part of a longer one. Bytes are kept as
// they are (a program may write anything), and following uses inotify (fs.watch) on the container's directory: it
// wakes on every append, on a rotation and on exit.json, which marks the end.
//
// The log is rotated (log-options.ts): container.log.N … container.log.1 are older files, container.log the one
// being written. They are read oldest first, each file known by its inode rather than its name, since names move
// at every rotation: once the file being read is finished (a newer one exists), reading goes on with the file that
// follows it, or with the oldest one left when rotations have dropped it meanwhile.

import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, statSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface LogRecord {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The line's text, with its newline when the record is a full line. */
  data: Buffer;
}

const NEWLINE = 0x0a;

function parseRecord(line: Buffer): LogRecord | null {
  const header = /^(\S+) (stdout|stderr) ([FP]) /.exec(line.subarray(0, 64).toString('latin1'));
  if (header === null) return null;
  const text = line.subarray(header[0].length);
  return {
    time: header[1]!,
    stream: header[2] as 'stdout' | 'stderr',
    data: header[3] === 'F' ? Buffer.concat([text, Buffer.from('\n')]) : text,
  };
}

/** The files of the log at `path` that exist now, oldest first: path.N … path.1, path. */
export function logFiles(path: string): string[] {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return [];
  }
  const rotated = names
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ name, n: Number(name.slice(prefix.length)) }))
    .sort((a, b) => b.n - a.n)
    .map(({ name }) => join(dirname(path), name));
  return existsSync(path) ? [...rotated, path] : rotated;
}

/** A file's identity, which survives renames. */
const identity = (stats: { dev: number; ino: number }) => `${stats.dev}:${stats.ino}`;

/** One open file of the log, and the bytes of its unfinished last line. */
interface OpenFile {
  fd: number;
  id: string;
  pending: Buffer;
}

/**
 * Opens the file that follows the one whose identity is `after` (null: the oldest), or the oldest one left when
 * `after` has been dropped; null when there is none (yet).
 */
function openNext(path: string, after: string | null): OpenFile | null {
  for (;;) {
    const files = logFiles(path).flatMap((file) => {
      try {
        return [{ file, id: identity(statSync(file)) }];
      } catch {
        return []; // dropped by a rotation since the listing
      }
    });
    const next = files[files.findIndex((entry) => entry.id === after) + 1];
    if (next === undefined) return null;
    let fd: number;
    try {
      fd = openSync(next.file, 'r');
    } catch {
      continue; // rotated away since: look again
    }
    if (identity(fstatSync(fd)) === next.id) return { fd, id: next.id, pending: Buffer.alloc(0) };
    closeSync(fd); // the name passed to another file since: look again
  }
}

/** The records of `file` from where the last call stopped to its end. */
function* readToEnd(file: OpenFile, chunk: Buffer): Generator<LogRecord> {
  for (let n = readSync(file.fd, chunk); n > 0; n = readSync(file.fd, chunk)) {
    file.pending = Buffer.concat([file.pending, chunk.subarray(0, n)]);
    for (let end = file.pending.indexOf(NEWLINE); end >= 0; end = file.pending.indexOf(NEWLINE)) {
      const record = parseRecord(file.pending.subarray(0, end));
      file.pending = file.pending.subarray(end + 1);
      if (record !== null) yield record;
    }
  }
}

/** Reads records from the log at `path`, from the start; with `follow`, until `ended()` is true and nothing more is left. */
export async function* readLog(path: string, options: { follow: boolean; ended: () => boolean; dir: string }): AsyncGenerator<LogRecord> {
  let wake: () => void = () => {};
  const watcher = options.follow ? watch(options.dir, () => wake()) : null;
  let current: OpenFile | null = null;
  try {
    const chunk = Buffer.alloc(65536);
    for (;;) {
      // Checked before reading: once it holds, this pass sees every byte the monitor wrote.
      const ended = !options.follow || options.ended() || !existsSync(options.dir);
      for (;;) {
        if (current !== null) yield* readToEnd(current, chunk);
        const next = openNext(path, current?.id ?? null);
        if (next === null) break;
        const finished = current;
        current = next;
        // A newer file exists, so the monitor has finished this one: what it wrote since the read above is read
        // now, before moving on.
        if (finished !== null) {
          try {
            yield* readToEnd(finished, chunk);
          } finally {
            closeSync(finished.fd);
          }
        }
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000); // a safety net only: inotify normally wakes us at once
      });
    }
  } finally {
    watcher?.close();
    if (current !== null) closeSync(current.fd);
  }
}
