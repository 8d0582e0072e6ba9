// Crash injection, for tests: with MINICTR_CRASH_AT=<point>, minictr kills itself with SIGKILL when a run reaches
// that point, exactly as `kill -9` or a crash would at the worst moment (an object created, perhaps not yet
// journaled). The crash tests use it to prove that `minictr gc` restores the host from every one of them. The
// points belong to the run's steps (steps.ts).

import { RUN_STEPS, type CrashPoint } from './steps.js';

export type { CrashPoint } from './steps.js';

export const CRASH_POINTS: readonly CrashPoint[] = RUN_STEPS.flatMap((step) => step.crashPoints);

const target = process.env.MINICTR_CRASH_AT;

export function crashPoint(point: CrashPoint): void {
  if (target === point) process.kill(process.pid, 'SIGKILL');
}
