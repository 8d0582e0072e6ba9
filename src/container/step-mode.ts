// `minictr run --step`: the run stops before each of its steps (steps.ts's RUN_STEPS, up to go→exec), says what the
// step is about to do, prints the commands that show from another terminal what the steps before it made (their
// `look` lines, with the container's pid and paths filled in), and goes on when Enter is pressed. Ctrl-C at a prompt
// stops the run like a Ctrl-C during any setup: everything built so far is torn down.
//
// The prompts use the caller's terminal, /dev/tty, never stdin or stdout, which stay the container's. There are no
// prompts once the container runs: its terminal, or its stdin, is then the container's alone.

import { closeSync, openSync, constants as fsConstants, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { MinictrError, messageOf, UsageError } from '../errors.js';
import { RUN_STEPS, type RunStep } from './steps.js';

/** What the look lines name; a line naming one not (yet) known for this run is left out. */
export type LookValues = Partial<Record<'pid' | 'state' | 'leases' | 'cgroup' | 'bridge' | 'table', string>>;

/** The look lines of the steps from `from` up to, not including, `to`, filled in, each once. */
export function lookLines(from: number, to: number, values: LookValues): string[] {
  const lines = RUN_STEPS.slice(from, to).flatMap((step): readonly string[] => step.look);
  const filled = lines.flatMap((line) => {
    let known = true;
    const text = line.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = values[name as keyof LookValues];
      if (value === undefined) known = false;
      return value ?? '';
    });
    return known ? [text] : [];
  });
  return [...new Set(filled)];
}

function indexOf(step: RunStep): number {
  return RUN_STEPS.findIndex((entry) => entry.label === step);
}

const STOPPING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export class StepMode {
  private values: LookValues = {};
  /** RUN_STEPS's index of the step the last prompt came before. */
  private last = 0;
  private reader: ReadStream | null;
  private output: number | null;

  private constructor(input: number, output: number) {
    this.reader = new ReadStream(input);
    this.reader.pause();
    this.output = output;
  }

  /** The caller's terminal, or the user's error: --step has nothing to wait on without one. */
  static open(): StepMode {
    let input: number | null = null;
    try {
      input = openSync('/dev/tty', fsConstants.O_RDONLY | fsConstants.O_NOCTTY);
      return new StepMode(input, openSync('/dev/tty', fsConstants.O_WRONLY | fsConstants.O_NOCTTY));
    } catch (cause) {
      if (input !== null) closeSync(input);
      throw new UsageError(`--step needs a terminal: it waits for Enter on /dev/tty, and this process has none (${messageOf(cause)})`);
    }
  }

  /** Values the look lines name, as the run learns them. */
  know(values: LookValues): void {
    this.values = { ...this.values, ...values };
  }

  /**
   * Says what `step` will do and how to look at what is there, then waits for Enter. Resolves early if a signal
   * arrives: the caller's signal check then stops the run. `last` adds the look lines of `step` itself: after the
   * last prompt the container runs, and minictr no longer stops.
   */
  async before(step: RunStep, options: { last?: boolean } = {}): Promise<void> {
    const index = indexOf(step);
    const looks = lookLines(this.last, index, this.values);
    this.last = index;
    const lines = [
      `minictr --step: next, ${step}: ${RUN_STEPS[index]!.does}`,
      ...(looks.length > 0 ? ['  look from another terminal (as root):', ...looks.map((line) => `    ${line}`)] : []),
    ];
    if (options.last === true) {
      const running = lookLines(index, index + 1, this.values);
      lines.push('  then the container runs, and minictr stops no more; look at it with:', ...running.map((line) => `    ${line}`));
    }
    lines.push('  Enter: go on; Ctrl-C: stop here and tear everything down ');
    this.write(lines.join('\n'));
    await this.enter(step);
  }

  private enter(step: RunStep): Promise<void> {
    const reader = this.reader;
    if (reader === null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let typed = '';
      const done = (error: Error | null) => {
        reader.pause();
        reader.off('data', onData).off('end', onEnd);
        for (const signal of STOPPING_SIGNALS) process.off(signal, onSignal);
        if (error === null) resolve();
        else reject(error);
      };
      const onData = (chunk: Buffer) => {
        typed += chunk.toString('latin1');
        if (typed.includes('\n')) done(null);
      };
      const onEnd = () => done(new MinictrError(`--step: the terminal closed at the prompt before ${step}`));
      const onSignal = () => {
        this.write('\n');
        done(null); // the run's signal check stops it
      };
      for (const signal of STOPPING_SIGNALS) process.on(signal, onSignal);
      reader.on('data', onData).on('end', onEnd);
      reader.resume();
    });
  }

  private write(text: string): void {
    if (this.output !== null) writeSync(this.output, text);
  }

  /** Ends the prompts; the terminal is the container's from here on. */
  close(): void {
    this.reader?.destroy();
    this.reader = null;
    if (this.output !== null) closeSync(this.output);
    this.output = null;
  }
}
