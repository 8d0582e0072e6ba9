// Reading a detached container's log (written by native/src/monitor.cc): one record per line,
// "<RFC 3339 time> <stdout|stderr> <F|P> <bytes>", F for a full line, P for part of a longer one. Bytes are kept as
// they are (a program may write anything), and following uses inotify (fs.watch) on the container's directory: it
// wakes on every append and on exit.json, which marks the end.

import { closeSync, existsSync, openSync, readSync, watch } from 'node:fs';

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

/** Reads records from `path`, from the start; with `follow`, until `ended()` is true and nothing more is left. */
export async function* readLog(path: string, options: { follow: boolean; ended: () => boolean; dir: string }): AsyncGenerator<LogRecord> {
  const fd = openSync(path, 'r');
  let wake: () => void = () => {};
  const watcher = options.follow ? watch(options.dir, () => wake()) : null;
  try {
    let pending = Buffer.alloc(0);
    const chunk = Buffer.alloc(65536);
    for (;;) {
      // Checked before reading: once it holds, this read sees every byte the monitor wrote.
      const ended = !options.follow || options.ended() || !existsSync(options.dir);
      for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
        pending = Buffer.concat([pending, chunk.subarray(0, n)]);
        for (let end = pending.indexOf(NEWLINE); end >= 0; end = pending.indexOf(NEWLINE)) {
          const record = parseRecord(pending.subarray(0, end));
          pending = pending.subarray(end + 1);
          if (record !== null) yield record;
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
    closeSync(fd);
  }
}
