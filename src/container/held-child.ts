// A process the addon spawned blocked on its release pipe (a container's PID 1 for `run`, or an exec'd process for
// `exec`), held until it ends, and the one sequence run and exec share around it:
//
//   holdingSignals   signals caught from the start; at the end, whatever happened, the undos kept in memory run
//   HeldChild.spawn  a terminal for -t, the spawn, the undo that gets rid of the process in whatever state it is
//   go               "go": the child runs its own steps and execs; a failure comes back as {step, errno}
//   wait             signals forwarded to it until it exits (with signal-escape.ts's hint and escape)

import type { MinictrError } from '../errors.js';
import type { ChildFailure, ExitStatus, NativeAddon, SpawnedChild } from '../native/index.js';
import { killAndWait, startTimeOf, type ProcessRef } from '../sys/proc.js';
import { Teardown } from '../teardown.js';
import { SignalRelay } from './signals.js';
import { TerminalRelay } from './terminal.js';

/**
 * Runs `body` with signals caught (forwarded once the process runs, recorded until the end, so a second Ctrl-C
 * cannot cut the teardown short) and an in-memory undo stack; `end` gets that stack's failures once it has run.
 */
export async function holdingSignals<T>(
  body: (teardown: Teardown, signals: SignalRelay) => Promise<T>,
  end: (failures: Error[], teardown: Teardown) => Promise<void>,
): Promise<T> {
  const teardown = new Teardown();
  const signals = new SignalRelay();
  signals.start();
  try {
    return await body(teardown, signals);
  } finally {
    signals.stopForwarding();
    await end(await teardown.run(), teardown);
    signals.stop();
  }
}

export class HeldChild {
  readonly pid: number;
  /** Its identity for records and for processes that are not this one's child (-d: the monitor's). */
  readonly ref: ProcessRef;
  /** Resolves once it has exited and been reaped; only for a child of this process (pidfd ≥ 0). */
  readonly exited: Promise<ExitStatus>;
  readonly child: SpawnedChild;
  private readonly addon: NativeAddon;
  private readonly terminal: TerminalRelay | null;
  private released = false;
  private aborted = false;
  private status: ExitStatus | null = null;

  /** Watches the exit from now on, when it is this process's child; `onExit` sees the status first. */
  constructor(addon: NativeAddon, child: SpawnedChild, terminal: TerminalRelay | null, onExit: (status: ExitStatus) => void = () => {}) {
    this.addon = addon;
    this.child = child;
    this.terminal = terminal;
    this.pid = child.pid;
    this.ref = { pid: child.pid, startTime: startTimeOf(child.pid) ?? 0 };
    this.exited = new Promise<ExitStatus>((resolve) => {
      if (child.pidfd < 0) return;
      addon.watchExit(child.pidfd, (status) => {
        this.status = status;
        onExit(status);
        resolve(status);
      });
    });
  }

  /**
   * Spawns with `spawn` (which may defer undos of its own: they run after the process is stopped), with a terminal
   * relay when `tty`, and defers the undo of the process at once, before anything else can throw.
   */
  static spawn(
    addon: NativeAddon,
    teardown: Teardown,
    options: { tty: boolean; spawn: () => SpawnedChild; onExit?: (status: ExitStatus) => void },
  ): HeldChild {
    const terminal = options.tty ? new TerminalRelay(addon) : null;
    if (terminal !== null) teardown.defer('close the terminal', () => terminal.finish());
    const child = options.spawn();
    terminal?.attach(child.consoleFd);
    const held = new HeldChild(addon, child, terminal, options.onExit);
    teardown.defer(`stop process ${child.pid}`, () => held.stop());
    return held;
  }

  /** "go": the child runs its own steps and execs; its failure is thrown as `describe` words it. */
  async go(interactive: boolean, describe: (failure: ChildFailure) => MinictrError): Promise<void> {
    this.released = true;
    const failure = await this.addon.release(this.child.releaseFd, this.child.errorFd);
    if (failure !== null) throw describe(failure);
    this.terminal?.start(interactive);
  }

  /**
   * Gives up before the release, a step of minictr's having failed: the child exits without running anything. Its
   * own failure, as `describe` words it, if it had reported one already (it may be the cause: a child that could not
   * join its cgroup is gone, and its network namespace with it); else null.
   */
  abort(describe: (failure: ChildFailure) => MinictrError): MinictrError | null {
    this.aborted = true;
    const failure = this.addon.abort(this.child.releaseFd, this.child.errorFd);
    return failure === null ? null : describe(failure);
  }

  /**
   * Forwards signals to it until it exits; its status. `init`: it is a container's PID 1 (`what` names what the
   * escape kills).
   */
  async wait(signals: SignalRelay, target: { init: boolean; what: string }): Promise<ExitStatus> {
    signals.forwardTo({ pid: this.pid, ...target });
    const status = await this.exited;
    signals.stopForwarding(); // the pid is reaped: it may belong to another process from now on
    return status;
  }

  /**
   * The undo. Unreleased, closing the release pipe makes it exit without running anything; released, SIGKILL.
   * Either way it is gone when this returns.
   */
  async stop(): Promise<void> {
    if (!this.released && !this.aborted) this.addon.abort(this.child.releaseFd, this.child.errorFd);
    if (this.child.pidfd < 0) return killAndWait(this.ref);
    if (this.released && this.status === null) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }
}
