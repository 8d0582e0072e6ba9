// The way out of a foreground container that ignores Ctrl-C, as Docker's CLI has one. A container's PID 1 gets no
// default action for a signal it has no handler for (the kernel drops it, even from the parent namespace; only
// SIGKILL and SIGSTOP get through), so a forwarded Ctrl-C does nothing to a shell or a server run without --init.
// minictr keeps forwarding, and:
//   - the first forwarded signal the target ignores prints a one-line hint (whether it ignores it is read from
//     /proc/PID/status as the signal is sent: SigCgt, the caught signals, SigIgn, the ignored ones, and SigBlk,
//     the blocked ones, which the kernel keeps pending, never ignores; a process asleep in sigwaitinfo (minictr-init,
//     tini) takes them too, though its status shows them unblocked while it waits: /proc/PID/wchan names it);
//   - the ESCAPE_COUNT-th SIGINT/SIGTERM within ESCAPE_WINDOW_MS kills the target with SIGKILL, whether it handles
//     them or not (a slow shutdown is cut short too); the run (or exec) then ends as usual, with its teardown, and
//     exits 137.
// With -it none of this is reached: the terminal is raw, and Ctrl-C goes through the container's own pty.
// The same holds for `exec`'s process (Docker's CLI leaves attached execs the same way); it is no PID 1, so it only
// ignores what it ignores explicitly (SigIgn).

import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** The signals that count towards the escape: what Ctrl-C and a plain `kill` send. */
const ESCAPE_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
export const ESCAPE_COUNT = 3;
export const ESCAPE_WINDOW_MS = 5_000;

/** What signals are forwarded to: a container's PID 1 (`run`) or a process it was joined by (`exec`). */
export interface SignalTarget {
  pid: number;
  /** True for a PID namespace's init, which ignores every signal it has no handler for. */
  init: boolean;
  /** What is killed, for the escape's message: "the container", "the exec'd process". */
  what: string;
}

/** Counts SIGINT/SIGTERM received within the last ESCAPE_WINDOW_MS. */
export class EscapeCounter {
  private times: number[] = [];
  private readonly kinds = new Set<NodeJS.Signals>();

  /** Records `signal` received at `now` (ms); the number of escape signals within the window, 0 for others. */
  record(signal: NodeJS.Signals, now: number): number {
    if (!ESCAPE_SIGNALS.includes(signal)) return 0;
    this.times = [...this.times.filter((time) => now - time < ESCAPE_WINDOW_MS), now];
    this.kinds.add(signal);
    return this.times.length;
  }

  /** The escape signals received, for the message: "SIGINT", "SIGINT/SIGTERM". */
  get names(): string {
    return [...this.kinds].join('/');
  }
}

/** Bit mask of a `Sig...:` line of /proc/PID/status (bit N-1 for signal N), or null when absent. */
export function signalMask(status: string, field: 'SigCgt' | 'SigIgn' | 'SigBlk'): bigint | null {
  const match = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status);
  return match === null ? null : BigInt(`0x${match[1]}`);
}

/** What /proc says of a process's signal dispositions: its `status` file and its `wchan` (where it sleeps). */
export interface SignalView {
  status: string;
  wchan: string;
}

/** Whether a process that `view` describes ignores `signal`, as `init` or not. */
export function ignoresSignal(view: SignalView, signal: NodeJS.Signals, init: boolean): boolean {
  if (view.wchan.startsWith('do_sigtimedwait')) return false; // it waits for signals: sigwaitinfo, sigtimedwait
  const { status } = view;
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  const caught = signalMask(status, 'SigCgt');
  const ignored = signalMask(status, 'SigIgn');
  const blocked = signalMask(status, 'SigBlk');
  if (caught === null || ignored === null || blocked === null || (blocked & bit) !== 0n) return false;
  if ((ignored & bit) !== 0n) return true;
  return init && (caught & bit) === 0n;
}

/**
 * The hint for a target that ignores `signal`, or null when it does not (or has just exited: nothing to read).
 * `count` is the number of escape signals received within the window so far.
 */
export function ignoredSignalHint(target: SignalTarget, signal: NodeJS.Signals, count: number): string | null {
  let view: SignalView;
  let name: string;
  try {
    const read = (file: string) => readFileSync(`/proc/${target.pid}/${file}`, 'utf8');
    view = { status: read('status'), wchan: read('wchan') };
    name = read('comm').trim();
  } catch {
    return null;
  }
  if (!ignoresSignal(view, signal, target.init)) return null;
  const left = ESCAPE_COUNT - count;
  const times = left === 1 ? 'once more' : left === 2 ? 'twice more' : `${left} times`;
  const who = target.init ? `PID 1 (${name}) ignores ${signal} (PID 1 gets no default action)` : `process ${target.pid} (${name}) ignores ${signal}`;
  const others = target.init ? ', or run with --init; `minictr stop` from another terminal' : '';
  return `${who}: press Ctrl-C ${times} within ${ESCAPE_WINDOW_MS / 1000} s to kill it${others}`;
}
