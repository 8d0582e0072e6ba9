// The moment minictr's own code starts running, in ms since the process started (performance.now() counts from
// the process's time origin). Imported first by cli.ts, so `--timings` can report Node's start-up separately.

export const mainStartedAt = performance.now();
