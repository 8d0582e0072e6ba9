// Process identity from /proc. A pid alone can be reused after its process dies, so minictr records a process as
// (pid, start time): the start time, field 22 of /proc/PID/stat in clock ticks since boot, never changes for a
// process and differs for any later process with the same pid.

import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { nativeAddon } from '../native/index.js';

export interface ProcessRef {
  pid: number;
  startTime: number;
}

/** State (R, S, Z, ...) and start time of `pid`, or null when no such process exists. */
function statOf(pid: number): { state: string; startTime: number } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: fields after it start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = Number(fields[19]);
  return Number.isFinite(startTime) ? { state: fields[0] ?? '', startTime } : null;
}

export function startTimeOf(pid: number): number | null {
  return statOf(pid)?.startTime ?? null;
}

let self: ProcessRef | undefined;

/** This process, read once: its identity never changes (gc and rm -f ask for it once per container). */
export function selfRef(): ProcessRef {
  if (self !== undefined) return { ...self };
  const startTime = startTimeOf(process.pid);
  if (startTime === null) throw new Error(`cannot read /proc/${process.pid}/stat`);
  self = { pid: process.pid, startTime };
  return { ...self };
}

/**
 * True while the very process `ref` names is running. A zombie counts as gone: an exiting process releases its
 * namespaces before it becomes one, so it holds nothing minictr must wait for.
 */
export function isAlive(ref: ProcessRef): boolean {
  const stat = statOf(ref.pid);
  return stat !== null && stat.startTime === ref.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/**
 * Sends `signal` to the very process `ref` names, never to a later one with the same pid (through a pidfd, see
 * native/src/proc.cc). Returns false when it is gone.
 */
export function sendSignal(ref: ProcessRef, signal: NodeJS.Signals): boolean {
  return nativeAddon().signalProcess(ref.pid, ref.startTime, constants.signals[signal]);
}

/**
 * Resolves true once the very process `ref` names has exited (at once if it already has), false if it still runs
 * after `timeoutMs`. Nothing polls: the kernel wakes the event loop through a pidfd (native/src/wait.cc), and the
 * pending deadline is what keeps Node waiting.
 */
export async function waitGone(ref: ProcessRef, timeoutMs: number): Promise<boolean> {
  const addon = nativeAddon();
  const pidfd = addon.openProcess(ref.pid, ref.startTime);
  if (pidfd === null) return true;
  return new Promise((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined;
    const cancel = addon.watchGone(pidfd, (failure) => {
      clearTimeout(deadline);
      if (failure === null) resolve(true);
      else reject(failure);
    });
    deadline = setTimeout(() => {
      cancel();
      resolve(false);
    }, Math.min(timeoutMs, MAX_TIMEOUT_MS));
  });
}

/** setTimeout's longest delay (about 24.8 days); a longer one fires at once. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** SIGKILL, then wait until the very process `ref` names is gone. */
export async function killAndWait(ref: ProcessRef): Promise<void> {
  if (!sendSignal(ref, 'SIGKILL')) return;
  if (!(await waitGone(ref, 5000))) throw new Error(`process ${ref.pid} is still alive 5 s after SIGKILL`);
}
