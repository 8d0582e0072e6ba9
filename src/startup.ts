// The moment minictr's own code starts running, in ms since the process started (performance.now() counts from
// the process's time origin). Imported first by cli.ts, so `--timings` can report Node's start-up separately. In the
// bundle (scripts/bundle.mjs) this module's code comes first, but it runs only once the launcher, dist/cli.js, has
// loaded the whole of dist/minictr.cjs: the moment also covers reading the bundle and its code cache (55.5 ms
// against 52.8 for `node -e 0`'s whole process on the machines of README's Performance section; 68.9 ms without
// the cache).

export const mainStartedAt = performance.now();
