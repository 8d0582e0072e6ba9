// The undo stack of one run. Every acquisition registers its undo on the line after it succeeds; run() undoes in
// reverse order, never stops at the first error, and can be called again safely (each undo runs at most once).
// An undo marked onlyIfClean (removing the journal) runs only when every undo before it succeeded, so whatever
// failed stays recorded for gc to retry.

import { debug } from './log.js';
import { messageOf } from './errors.js';

type Undo = () => void | Promise<void>;

export class Teardown {
  private readonly stack: { label: string; undo: Undo; onlyIfClean: boolean }[] = [];

  defer(label: string, undo: Undo, options: { onlyIfClean?: boolean } = {}): void {
    this.stack.push({ label, undo, onlyIfClean: options.onlyIfClean ?? false });
  }

  /** Another process owns what was acquired now (a detached container's monitor): forget every undo. */
  handOver(): void {
    this.stack.length = 0;
  }

  /** Undoes everything registered so far, last first. Returns the failures, each prefixed with its label. */
  async run(): Promise<Error[]> {
    const errors: Error[] = [];
    for (let entry = this.stack.pop(); entry !== undefined; entry = this.stack.pop()) {
      if (entry.onlyIfClean && errors.length > 0) {
        errors.push(new Error(`${entry.label}: skipped after the failures above, kept for minictr gc`));
        continue;
      }
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
