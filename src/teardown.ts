// The undo stack of one run. Every acquisition registers its undo on the line after it succeeds; run() undoes in
// reverse order, never stops at the first error, and can be called again safely (each undo runs at most once).

import { debug } from './log.js';
import { messageOf } from './errors.js';

type Undo = () => void | Promise<void>;

export class Teardown {
  private readonly stack: { label: string; undo: Undo }[] = [];

  defer(label: string, undo: Undo): void {
    this.stack.push({ label, undo });
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
