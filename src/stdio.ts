// minictr's own stdin, stdout and stderr. Node makes each on first use (a stream, and node:stream with it); a run
// that writes nothing never needs one, and making the three took it 1-3 ms. So they stay made on first use, through
// getters that also do what minictr needs of each:
//
// - stdin belongs to the container. The first touch of process.stdin (execa's does, when it loads) makes Node set
//   O_NONBLOCK on the open file description it shares with the container, whose reads then fail with EAGAIN. An
//   empty stream stands in for it, so Node never opens fd 0 at all.
// - A reader of stdout that stops early (`minictr net | head`) is not an error: stop writing, quietly.
// - What was made is flushed before minictr exits (flushStdio).

import type { Readable } from 'node:stream';
import { stream } from './sys/builtins.js';

const made: NodeJS.WriteStream[] = [];

export function setUpStdio(): void {
  let stdin: Readable | undefined;
  Object.defineProperty(process, 'stdin', { get: () => (stdin ??= stream().Readable.from([])), configurable: true, enumerable: true });
  for (const name of ['stdout', 'stderr'] as const) {
    const make = Object.getOwnPropertyDescriptor(process, name)!.get!;
    let output: NodeJS.WriteStream | undefined;
    const get = (): NodeJS.WriteStream => {
      if (output !== undefined) return output;
      output = make.call(process) as NodeJS.WriteStream;
      made.push(output);
      if (name === 'stdout') output.on('error', stopOnEpipe);
      return output;
    };
    Object.defineProperty(process, name, { get, configurable: true, enumerable: true });
  }
}

function stopOnEpipe(failure: NodeJS.ErrnoException): void {
  if (failure.code !== 'EPIPE') throw failure;
  process.exit(process.exitCode ?? 0);
}

/**
 * Resolves once everything written to stdout and stderr has reached the kernel: at once, as Node writes stdio
 * synchronously on Linux, unless a pipe was full.
 */
export function flushStdio(): Promise<unknown> {
  return Promise.all(
    made.map((output) => (output.writableLength === 0 ? undefined : new Promise((resolve) => output.write('', resolve)))),
  );
}
