// Signals sent to minictr while it runs a container. Once the container runs they are forwarded to its PID 1, as
// `docker run` does (--sig-proxy); before that, the first one is remembered so setup can stop between steps, tear
// down what it built, and exit as if killed by it. One that arrives while PID 1 is being released, when setup can
// no longer stop, is handed to PID 1 once it runs. While forwarding, the hint and the escape of signal-escape.ts
// apply: a target that ignores a signal says how to get out, and a third SIGINT/SIGTERM within 5 s kills it.

import { constants } from 'node:os';
import { MinictrError } from '../errors.js';
import { info } from '../log.js';
import { ESCAPE_COUNT, EscapeCounter, ignoredSignalHint, type SignalTarget } from './signal-escape.js';

const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Setup stopped by a signal; the CLI exits with 128 + its number. */
class Interrupted extends MinictrError {
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal} before the container started`, 'interrupted');
    this.signal = signal;
  }

  get signalNumber(): number {
    return constants.signals[this.signal];
  }
}

export class SignalRelay {
  private target: SignalTarget | null = null;
  private pending: NodeJS.Signals | null = null;
  private readonly escape = new EscapeCounter();
  private hinted = false;
  private killed = false;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.target === null) {
      this.pending ??= signal;
      return;
    }
    const count = this.escape.record(signal, Date.now());
    if (count >= ESCAPE_COUNT) {
      if (!this.killed) info(`got ${count} ${this.escape.names}: killing ${this.target.what}`);
      this.killed = true;
      this.send(this.target.pid, 'SIGKILL');
      return;
    }
    // Whether it ignores the signal is read before it is sent: the signal wakes a process that waits for it
    // (minictr-init in sigwaitinfo), whose status shows it unblocked for a moment.
    const hint = this.hinted || this.killed ? null : ignoredSignalHint(this.target, signal, count);
    this.send(this.target.pid, signal);
    if (hint !== null) info(hint);
    this.hinted ||= hint !== null;
  };

  private send(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch (cause) {
      // ESRCH: the target has just exited (a zombie still takes signals; a reaped one no longer does).
      if ((cause as NodeJS.ErrnoException).code !== 'ESRCH') throw cause;
    }
  }

  /** Signals are recorded again instead of forwarded (the container has exited, or teardown has begun). */
  stopForwarding(): void {
    this.target = null;
  }

  start(): void {
    for (const signal of FORWARDED_SIGNALS) process.on(signal, this.handler);
  }

  stop(): void {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, this.handler);
  }

  /** Throws Interrupted when a signal arrived during setup. Called between setup steps. */
  check(): void {
    if (this.pending !== null) throw new Interrupted(this.pending);
  }

  /**
   * From now on, signals go to the target (not yet reaped, so its pid cannot be reused). One that arrived while it
   * was being released goes to it now: it has started, and the signal is its to handle.
   */
  forwardTo(target: SignalTarget): void {
    this.target = target;
    if (this.pending !== null) this.handler(this.pending);
    this.pending = null;
  }
}
