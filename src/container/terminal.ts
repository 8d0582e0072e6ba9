// `run -t` and `exec -t`: the container's stdin, stdout and stderr are a pseudo-terminal. minictr holds the
// controller end and relays it: what the container writes goes to minictr's stdout; with -i, what is typed goes to
// the container, byte for byte (raw mode: Ctrl-C reaches the container's terminal as a byte, and its line
// discipline turns it into SIGINT for the foreground process group, as on any terminal). Window size changes of
// minictr's terminal are passed on (TIOCSWINSZ, which makes the kernel send SIGWINCH inside).

import { closeSync, createReadStream, createWriteStream } from 'node:fs';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import type { NativeAddon } from '../native/index.js';

/** How long to wait for output still in the terminal after the container exits. */
const DRAIN_TIMEOUT_MS = 1000;

export class TerminalRelay {
  readonly replica: number;
  private readonly controller: number;
  private readonly addon: NativeAddon;
  private input: Readable | null = null;
  private started = false;
  private drained: Promise<void> = Promise.resolve();
  private readonly onResize = () => this.resize();

  constructor(addon: NativeAddon) {
    this.addon = addon;
    const { rows, columns } = TerminalRelay.size();
    const pair = addon.openPty(rows, columns);
    this.controller = pair.controller;
    this.replica = pair.replica;
  }

  private static size(): { rows: number; columns: number } {
    return { rows: process.stdout.rows ?? 24, columns: process.stdout.columns ?? 80 };
  }

  private resize(): void {
    const { rows, columns } = TerminalRelay.size();
    this.addon.resizePty(this.controller, rows, columns);
  }

  /** Once the container holds the replica: minictr lets go of it and starts relaying. */
  start(interactive: boolean): void {
    this.started = true;
    closeSync(this.replica);
    const output = createReadStream('', { fd: this.controller, autoClose: false });
    this.drained = new Promise<void>((resolve) => {
      output.on('end', resolve);
      // EIO: every holder of the replica has closed it, i.e. the container is gone. The output is complete.
      output.on('error', () => resolve());
    });
    output.pipe(process.stdout, { end: false });
    if (process.stdout.isTTY) process.stdout.on('resize', this.onResize);
    if (!interactive) return;
    // process.stdin is a placeholder (cli.ts): fd 0 is opened here, only for -i -t.
    const input = isatty(0) ? new TtyReadStream(0) : createReadStream('', { fd: 0, autoClose: false });
    if (input instanceof TtyReadStream) input.setRawMode(true);
    input.pipe(createWriteStream('', { fd: this.controller, autoClose: false }));
    this.input = input;
  }

  /** After the container's exit: the rest of its output, then the terminal settings as they were. */
  async finish(): Promise<void> {
    if (!this.started) closeSync(this.replica); // the container never ran
    await Promise.race([this.drained, new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
    process.stdout.off('resize', this.onResize);
    if (this.input instanceof TtyReadStream) this.input.setRawMode(false);
    this.input?.destroy();
    closeSync(this.controller);
  }
}
