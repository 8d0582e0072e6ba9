// A process the addon spawned blocked on its release pipe (a container's PID 1 for `run`, or an exec'd process for
// `exec`), held until it ends: its release, its exit, and the one undo that gets rid of it in whatever state it is.

import type { ChildFailure, ExitStatus, NativeAddon, SpawnedChild } from '../native/index.js';
import { killAndWait, startTimeOf, type ProcessRef } from '../sys/proc.js';

export class HeldChild {
  readonly pid: number;
  /** Its identity for records and for processes that are not this one's child (-d: the monitor's). */
  readonly ref: ProcessRef;
  /** Resolves once it has exited and been reaped; only for a child of this process (pidfd ≥ 0). */
  readonly exited: Promise<ExitStatus>;
  private readonly addon: NativeAddon;
  private readonly child: SpawnedChild;
  private released = false;
  private status: ExitStatus | null = null;

  /** Watches the exit from now on, when it is this process's child; `onExit` sees the status first. */
  constructor(addon: NativeAddon, child: SpawnedChild, onExit: (status: ExitStatus) => void = () => {}) {
    this.addon = addon;
    this.child = child;
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

  /** "go": the child runs its own steps and execs; a failure comes back as {step, errno}. */
  release(): Promise<ChildFailure | null> {
    this.released = true;
    return this.addon.release(this.child.releaseFd, this.child.errorFd);
  }

  /**
   * The undo. Unreleased, closing the release pipe makes it exit without running anything; released, SIGKILL.
   * Either way it is gone when this returns.
   */
  async stop(): Promise<void> {
    if (!this.released) this.addon.abort(this.child.releaseFd, this.child.errorFd);
    if (this.child.pidfd < 0) return killAndWait(this.ref);
    if (this.released && this.status === null) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }
}
