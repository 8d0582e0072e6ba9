// Diagnostics on stderr. stdout carries only data (ids, tables, JSON) so it can be piped; everything a person reads
// while minictr works goes here. Logging never changes behaviour: it is off or on, nothing else depends on it.

let debugEnabled = process.env.MINICTR_DEBUG === '1';

export function setDebug(enabled: boolean): void {
  debugEnabled = enabled;
}

function write(message: string): void {
  process.stderr.write(`minictr: ${message}\n`);
}

export function debug(message: string): void {
  if (debugEnabled) write(message);
}

/** What minictr does, when the user asked to see it (--explain). */
export const info = write;

/** The one line the CLI prints for an error that ends the command. */
export const error = write;

export function warn(message: string): void {
  write(`warning: ${message}`);
}
