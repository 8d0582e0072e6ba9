// The one way minictr runs another program: an argv array (never a shell string), input on stdin when given, a
// debug line per call, and a typed CommandError carrying the argv, status and stderr when it fails. execa is loaded
// on first use (from its own file in the bundle, scripts/bundle.mjs): a run that needs no host command does not pay
// for loading it.

import { debug } from '../log.js';

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | undefined, stderr: string, cause?: unknown) {
    const detail = stderr.trim() || (exitCode === undefined ? 'could not be started' : `exit status ${exitCode}`);
    super(`${argv[0]}: ${detail}`, cause === undefined ? undefined : { cause });
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export async function runCommand(argv: readonly string[], input?: string): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('runCommand: empty argv');
  debug(`exec ${argv.join(' ')}${input === undefined ? '' : ` <<< ${JSON.stringify(input)}`}`);
  const { execa } = await import('execa');
  const result = await execa(file, args, {
    input: input ?? '',
    reject: false,
    stripFinalNewline: false,
    env: { LC_ALL: 'C' },
  });
  if (result.failed) {
    throw new CommandError(argv, result.exitCode, String(result.stderr ?? ''), result.cause);
  }
  return { stdout: String(result.stdout), stderr: String(result.stderr) };
}
