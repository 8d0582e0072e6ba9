// Crash injection, for tests: with MINICTR_CRASH_AT=<point>, minictr kills itself with SIGKILL when a run reaches
// that point, exactly as `kill -9` or a crash would at the worst moment (an object created, perhaps not yet
// journaled). The crash tests use it to prove that `minictr gc` restores the host from every one of them.

export const CRASH_POINTS = ['state', 'name', 'lease', 'ports', 'spawn', 'veth', 'nat', 'released', 'handoff', 'running'] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

const target = process.env.MINICTR_CRASH_AT;

export function crashPoint(point: CrashPoint): void {
  if (target === point) process.kill(process.pid, 'SIGKILL');
}
