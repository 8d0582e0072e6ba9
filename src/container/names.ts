// --name reservations: one O_EXCL file per name under /run/minictr/names holding the container id, so two runs can
// never take the same name, with no lock.

import { UsageError } from '../errors.js';
import { shortId } from '../ids.js';
import { Registry } from '../sys/exclusive-file.js';

export class NameRegistry {
  readonly files: Registry;

  constructor(dir: string) {
    this.files = new Registry(dir);
  }

  claim(owner: string, name: string): void {
    if (!this.files.claim(name, owner)) {
      throw new UsageError(`the container name "${name}" is already in use by container ${shortId(this.holder(name) ?? '(unknown)')}`);
    }
  }

  holder(name: string): string | null {
    return this.files.holder(name);
  }

  release(owner: string, name: string): void {
    this.files.release(name, owner);
  }
}
