// `minictr exec` without -t, when minictr's own stdin, stdout or stderr is a terminal: the process gets pipes
// instead, and minictr relays them, as Docker does. Handing it the caller's terminal would let whatever it leaves
// running in the container (`cmd &`) keep that terminal after exec returns: read what the user types next (a sudo
// password), write fake prompts, change the terminal's settings. A pipe dies with minictr's end of it.
//
// Without -i the process's stdin is /dev/null, as in `docker exec`. Standard streams that are not terminals (a
// pipeline, a file) are handed over as they are: they hold nothing of the user's session.

import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import type { NativeAddon } from '../native/index.js';

/** How long the output of processes still running after the command exits is relayed before the pipes close. */
const DRAIN_MS = 100;

export class StdioRelay {
  /** The process's fds 0-2 (-1: minictr's own). */
  readonly stdio: [number, number, number] = [-1, -1, -1];
  /** Ends the process holds; closed here once it has them (after the spawn). */
  private readonly handed: number[] = [];
  private readonly outputs: { stream: Socket; done: Promise<void> }[] = [];
  private input: Readable | null = null;

  /** Null when no standard stream is a terminal: nothing to relay. */
  static create(addon: NativeAddon, interactive: boolean): StdioRelay | null {
    if (![0, 1, 2].some((fd) => isatty(fd))) return null;
    return new StdioRelay(addon, interactive);
  }

  private constructor(addon: NativeAddon, interactive: boolean) {
    // 1. stdin: /dev/null, or with -i a pipe fed from minictr's stdin (when it is a terminal; otherwise it is
    //    handed over as it is).
    if (!interactive) {
      this.stdio[0] = openSync('/dev/null', 'r');
      this.handed.push(this.stdio[0]);
    } else if (isatty(0)) {
      const [read, write] = addon.openPipe();
      this.stdio[0] = read;
      this.handed.push(read);
      // A tty stream, as -t's relay uses (libuv reopens the terminal, so the shell's open file is left blocking),
      // which stops reading when destroyed: a blocking read on the thread pool would hold minictr until a key.
      this.input = new TtyReadStream(0);
      this.input.pipe(new Socket({ fd: write, readable: false, writable: true }));
    }
    // 2. stdout and stderr: pipes to minictr's own, when those are terminals.
    for (const fd of [1, 2] as const) {
      if (!isatty(fd)) continue;
      const [read, write] = addon.openPipe();
      this.stdio[fd] = write;
      this.handed.push(write);
      // A socket on the pipe (libuv's own, non-blocking): destroying it ends the read at once, where an fs stream's
      // blocking read on the thread pool would hold minictr for as long as a process left behind keeps it open.
      const stream = new Socket({ fd: read, readable: true, writable: false });
      const done = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('error', () => resolve());
      });
      stream.pipe(fd === 1 ? process.stdout : process.stderr, { end: false });
      this.outputs.push({ stream, done });
    }
  }

  /** Once the process exists (the joiner has dup'ed them), minictr's copies of its ends close. */
  spawned(): void {
    for (const fd of this.handed.splice(0)) closeSync(fd);
  }

  /** After the command's exit: what is left in the pipes, for a moment, then the relay ends, and so do the pipes. */
  async finish(): Promise<void> {
    this.spawned();
    const drained = Promise.all(this.outputs.map((output) => output.done));
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
    for (const output of this.outputs) output.stream.destroy();
    this.input?.destroy();
  }
}
