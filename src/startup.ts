// The moment minictr's own code starts running, in ms since the process started (performance.now() counts from
// the process's time origin). Imported first by cli.ts, so `--timings` can report Node's start-up separately. In the
// bundle (scripts/bundle.mjs) this module's code comes first, but it runs only once the launcher, dist/cli.js, has
// loaded the whole of dist/minictr.js: the moment also covers reading and compiling the bundle (about 11 ms on the
// machines of README's Performance section).

export const mainStartedAt = performance.now();
