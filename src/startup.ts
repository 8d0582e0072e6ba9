// The moment minictr's own code starts running, in ms since the process started (performance.now() counts from
// the process's time origin). Imported first by cli.ts, so `--timings` can report Node's start-up separately. ES
// modules run only once all static imports are loaded and linked: the moment also covers cli.ts's few static
// imports (this file, errors.ts, log.ts), a fraction of a millisecond.

export const mainStartedAt = performance.now();
