// The moment minictr's own code starts running, in ms since the process started, and the clock `--timings` reads
// (now()). Imported first by cli.ts, so `--timings` can report Node's start-up separately. In the bundle
// (scripts/bundle.mjs) this module's code comes first, but it runs only once the launcher, dist/cli.cjs, has loaded
// the whole of dist/minictr.cjs: the moment also covers reading the bundle and its code cache (49-54 ms, less than
// `node -e 0`'s whole process, on the machines of README's Performance section; 68.9 ms without the cache).

/**
 * ms since the process started. process.uptime() is a call into Node; performance.now(), the same clock, loads
 * perf_hooks and its modules first, 0.5 ms of every run.
 */
export function now(): number {
  return process.uptime() * 1000;
}

export const mainStartedAt = now();
