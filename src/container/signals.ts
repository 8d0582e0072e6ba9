// Signals sent to minictr while it runs a container. Once the container runs they are forwarded to its PID 1, as
// `docker run` does (--sig-proxy); before that, the first one is remembered so setup can stop between steps, tear
// down what it built, and exit as if killed by it. One that arrives while PID 1 is being released, when setup can
// no longer stop, is handed to PID 1 once it runs.

import { constants } from 'node:os';
import { MinictrError } from '../errors.js';

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
  private target: number | null = null;
  private pending: NodeJS.Signals | null = null;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.target === null) {
      this.pending ??= signal;
      return;
    }
    try {
      process.kill(this.target, signal);
    } catch (cause) {
      // ESRCH: PID 1 has just exited (a zombie still takes signals; a reaped one no longer does).
      if ((cause as NodeJS.ErrnoException).code !== 'ESRCH') throw cause;
    }
  };

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
   * From now on, signals go to `pid` (the container's PID 1, not yet reaped, so the pid cannot be reused). One
   * that arrived while it was being released goes to it now: it has started, and the signal is its to handle.
   */
  forwardTo(pid: number): void {
    this.target = pid;
    if (this.pending !== null) this.handler(this.pending);
    this.pending = null;
  }
}
