// Diagnostics on stderr. stdout carries only data (ids, tables, JSON) so it can be piped; everything a person reads
// while minictr works goes here. Logging never changes behaviour: it is off or on, nothing else depends on it.

let debugEnabled = process.env.MINICTR_DEBUG === '1';

export function setDebug(enabled: boolean): void {
  debugEnabled = enabled;
}

export function debug(message: string): void {
  if (debugEnabled) process.stderr.write(`minictr: ${message}\n`);
}

export function info(message: string): void {
  process.stderr.write(`minictr: ${message}\n`);
}

export function warn(message: string): void {
  process.stderr.write(`minictr: warning: ${message}\n`);
}

export function error(message: string): void {
  process.stderr.write(`minictr: ${message}\n`);
}
