// `run -t` and `exec -t`: the container's stdin, stdout and stderr are a pseudo-terminal of its own devpts, opened
// by the child, which sends minictr the controller end over a socket (native/src/child.cc, OpenTerminal). minictr
// relays it: what the container writes goes to minictr's stdout; with -i, what is typed goes to the container, byte
// for byte (raw mode: Ctrl-C reaches the container's terminal as a byte, and its line discipline turns it into
// SIGINT for the foreground process group, as on any terminal). Window size changes of minictr's terminal are
// passed on (TIOCSWINSZ, which makes the kernel send SIGWINCH inside).

import { closeSync, createReadStream, createWriteStream } from 'node:fs';
import type { ReadStream as TtyReadStream } from 'node:tty';
import type { Readable } from 'node:stream';
import type { NativeAddon, TerminalSize } from '../native/index.js';
import { tty } from '../sys/builtins.js';

/** How long to wait for output still in the terminal after the container exits. */
const DRAIN_TIMEOUT_MS = 1000;

export class TerminalRelay {
  private readonly addon: NativeAddon;
  private console: number | null = null;
  private controller: number | null = null;
  private input: Readable | null = null;
  /** The input when it is a terminal, in raw mode until finish(). */
  private rawInput: TtyReadStream | null = null;
  private drained: Promise<void> = Promise.resolve();
  private readonly onResize = () => {
    if (this.controller !== null) this.addon.resizePty(this.controller, ...TerminalRelay.dimensions());
  };

  constructor(addon: NativeAddon) {
    this.addon = addon;
  }

  private static dimensions(): [number, number] {
    return [process.stdout.rows ?? 24, process.stdout.columns ?? 80];
  }

  /** The size the child gives the terminal: minictr's own terminal's, or 24×80. */
  static size(): TerminalSize {
    const [rows, columns] = TerminalRelay.dimensions();
    return { rows, columns };
  }

  /** The spawned child's console socket: the controller arrives there before the child execs. */
  attach(consoleFd: number): void {
    this.console = consoleFd;
  }

  /** Once the child has exec'd: the controller, and the relay. */
  start(interactive: boolean): void {
    const console = this.console!;
    this.console = null; // receiveTerminal closes it, even when it throws
    const controller = this.addon.receiveTerminal(console);
    this.controller = controller;
    const output = createReadStream('', { fd: controller, autoClose: false });
    this.drained = new Promise<void>((resolve) => {
      output.on('end', resolve);
      // EIO: every holder of the replica has closed it, i.e. the container is gone. The output is complete.
      output.on('error', () => resolve());
    });
    output.pipe(process.stdout, { end: false });
    if (process.stdout.isTTY) process.stdout.on('resize', this.onResize);
    if (!interactive) return;
    // process.stdin is a placeholder (stdio.ts): fd 0 is opened here, only for -i -t (and node:tty loaded).
    const { isatty, ReadStream } = tty();
    this.rawInput = isatty(0) ? new ReadStream(0) : null;
    this.rawInput?.setRawMode(true);
    const input = this.rawInput ?? createReadStream('', { fd: 0, autoClose: false });
    input.pipe(createWriteStream('', { fd: controller, autoClose: false }));
    this.input = input;
  }

  /** After the container's exit: the rest of its output, then the terminal settings as they were. */
  async finish(): Promise<void> {
    await Promise.race([this.drained, new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_MS).unref())]);
    process.stdout.off('resize', this.onResize);
    this.rawInput?.setRawMode(false);
    this.input?.destroy();
    for (const fd of [this.console, this.controller]) if (fd !== null) closeSync(fd);
  }
}
