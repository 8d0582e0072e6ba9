// `minictr exec`: flags → ExecSpec → one call → the process's exit status as minictr's exit code.

import { MinictrError, UsageError } from '../errors.js';
import { parseEnv } from '../container/spec.js';
import { exitCodeOf } from '../container/state.js';
import { execInContainer } from '../container/exec.js';
import { rawEnv } from '../sys/bytes.js';

export interface ExecFlags {
  env?: string[];
  envFile?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
}

export async function exec(container: string, command: string[], flags: ExecFlags): Promise<number> {
  if (command.length === 0 || command[0] === '') throw new UsageError('no command given: minictr exec [OPTIONS] CONTAINER COMMAND [ARG...]');
  if (flags.workdir !== undefined && !flags.workdir.startsWith('/')) throw new UsageError(`invalid --workdir "${flags.workdir}": must be an absolute path`);
  const fromFiles = flags.envFile !== undefined && flags.envFile.length > 0 ? (await import('../container/env-file.js')).readEnvFiles(flags.envFile) : [];
  const env = parseEnv([...fromFiles, ...(flags.env ?? [])], rawEnv(process.env));
  const status = await execInContainer({
    container,
    argv: command,
    env,
    workdir: flags.workdir ?? null,
    user: flags.user ?? null,
    tty: flags.tty ?? false,
    interactive: flags.interactive ?? false,
  });
  const code = exitCodeOf(status);
  if (code === null) throw new MinictrError(`wait for the process: waitid failed with errno ${status.errno ?? 'unknown'}`);
  return code;
}
