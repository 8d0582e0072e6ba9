// OCI hooks (config.json "hooks"): each runs in the runtime's namespaces with the container's state as JSON on its
// stdin, its args (args[0] is argv[0]) and env, and its timeout in seconds. A failing prestart, createRuntime or
// poststart hook fails the command that runs it; a failing poststop hook is only warned about (the spec's rules).

import { execa } from 'execa';
import { MinictrError } from '../errors.js';
import type { Hook } from './config.js';
import type { OciState } from './state.js';

export async function runHooks(kind: string, hooks: readonly Hook[] | undefined, state: OciState): Promise<void> {
  for (const [i, hook] of (hooks ?? []).entries()) {
    const [argv0, ...args] = hook.args ?? [hook.path];
    const result = await execa(hook.path, args, {
      argv0,
      input: JSON.stringify(state),
      env: Object.fromEntries((hook.env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])),
      extendEnv: false,
      reject: false,
      timeout: hook.timeout !== undefined ? hook.timeout * 1000 : undefined,
      stdout: 'inherit',
      stderr: 'inherit',
    });
    if (result.failed) {
      throw new MinictrError(`${kind} hook ${i} (${hook.path}) failed: ${result.shortMessage}`);
    }
  }
}
