// --log-opt: how a detached container's log is rotated, with the semantics of Docker's json-file and local drivers.
// minictr-monitor writes container.log; a record that would take it past max-size first renames it to
// container.log.1 (the older ones moving up to .2, …), so at most max-file files exist, the oldest dropped. The
// logs live in /run/minictr, a tmpfs taken from memory, so the default is smaller than Docker's local driver
// (20m x 5): 10m x 3, at most 30 MiB per container. Parsing is pure and strict: anything else is refused before
// anything is created.

import { UsageError } from '../errors.js';
import { parseSize, parseWhole } from '../sys/numbers.js';

export interface LogOptions {
  /** Bytes a log file reaches before it is rotated (a record is never split: one larger than this gets a file). */
  maxSize: number;
  /** Files kept, container.log included; 1: the log starts over when full. */
  maxFile: number;
}

export const DEFAULT_LOG_OPTIONS: LogOptions = { maxSize: 10 * 1024 * 1024, maxFile: 3 };

/** Enough to name every file, and few enough that a rotation's renames stay cheap. */
const MAX_FILES = 1000;

function invalid(value: string, why: string): UsageError {
  return new UsageError(`invalid --log-opt "${value}": ${why}`);
}

/** The --log-opt values (KEY=VALUE, repeatable; a later one wins, as in Docker) over the defaults. */
export function parseLogOptions(values: readonly string[]): LogOptions {
  const options = { ...DEFAULT_LOG_OPTIONS };
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq < 0) throw invalid(value, 'expected KEY=VALUE, with KEY max-size or max-file');
    const [key, setting] = [value.slice(0, eq), value.slice(eq + 1)];
    if (key === 'max-size') {
      const bytes = parseSize(setting); // as --memory's: 512, 512k, 10m, 1.5g
      if (bytes === null || !(bytes >= 1 && Number.isSafeInteger(bytes))) throw invalid(value, 'max-size must be a positive size, such as 10m or 512k');
      options.maxSize = bytes;
    } else if (key === 'max-file') {
      const files = parseWhole(setting);
      if (files === null || !(files >= 1 && files <= MAX_FILES)) throw invalid(value, `max-file must be a whole number from 1 to ${MAX_FILES}`);
      options.maxFile = files;
    } else {
      throw invalid(value, `unknown option "${key}": minictr knows max-size and max-file`);
    }
  }
  return options;
}
