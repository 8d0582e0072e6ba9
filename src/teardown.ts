// The undos a run or an exec keeps in memory: what no journal records, because it dies with this process or is
// this process's own (the terminal relay, the handoff pipe to a monitor, the held child and its cgroup join). Every
// acquisition registers its undo on the line after it succeeds; run() undoes in reverse order, never stops at the
// first error, and can be called again safely (each undo runs at most once). The host objects a run creates are
// journaled instead and torn down from the journal (container/journal.ts).

import { debug } from './log.js';
import { messageOf } from './errors.js';

type Undo = () => void | Promise<void>;

export class Teardown {
  private readonly stack: { label: string; undo: Undo }[] = [];
  private handed = false;

  defer(label: string, undo: Undo): void {
    this.stack.push({ label, undo });
  }

  /** Another process owns what was acquired now (a detached container's monitor): forget every undo. */
  handOver(): void {
    this.stack.length = 0;
    this.handed = true;
  }

  /** Whether handOver was called: the container and its journal are another process's now. */
  get handedOver(): boolean {
    return this.handed;
  }

  /** Undoes everything registered so far, last first. Returns the failures, each prefixed with its label. */
  async run(): Promise<Error[]> {
    const errors: Error[] = [];
    for (let entry = this.stack.pop(); entry !== undefined; entry = this.stack.pop()) {
      try {
        debug(`teardown: ${entry.label}`);
        await entry.undo();
      } catch (cause) {
        errors.push(new Error(`${entry.label}: ${messageOf(cause)}`, { cause }));
      }
    }
    return errors;
  }
}
