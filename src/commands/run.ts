// `minictr run`: flags → RunSpec → one lifecycle call → the container's exit status as minictr's exit code (or,
// with -d, its id on stdout as soon as it runs).

import { MinictrError, UsageError } from '../errors.js';
import { runContainer } from '../container/lifecycle.js';
import { exitCodeOf } from '../container/state.js';
import { defaultRootfs } from '../container/rootfs.js';
import { buildRunSpec, type ImageContext, type RunFlags } from '../container/spec.js';
import { SUBNET_CIDR } from '../network/names.js';
import { Subnet } from '../network/subnet.js';
import { rawEnv } from '../sys/bytes.js';

export type { RunFlags } from '../container/spec.js';

/** What a run of an image loads, asked for once (one batch: a run of an image pays for its modules in one go). */
let imageModulesLoading: Promise<[typeof import('../image/resolve.js'), typeof import('../image/image-config.js'), typeof import('../image/manifest.js')]> | null = null;
function imageModules() {
  imageModulesLoading ??= Promise.all([import('../image/resolve.js'), import('../image/image-config.js'), import('../image/manifest.js')]);
  return imageModulesLoading;
}

/**
 * Docker's grammar, `run [OPTIONS] IMAGE [COMMAND] [ARG...]`, beside minictr's own: a first argument that is an
 * absolute path (or any command with --rootfs) runs in a rootfs directory, the built-in busybox one by default;
 * anything else names an image, pulled when missing (--pull), whose config gives what the flags leave open.
 */
async function imageOf(command: string[], flags: RunFlags): Promise<ImageContext | null> {
  const [reference, ...args] = command;
  if (flags.rootfs !== undefined || reference === undefined || reference.startsWith('/')) {
    if (flags.entrypoint !== undefined || flags.pull !== undefined || flags.platform !== undefined) {
      throw new UsageError('--entrypoint, --pull and --platform apply to images: give an image reference, not a path');
    }
    return null;
  }
  const [{ resolveImage, parsePullPolicy }, { imageRun }, { parsePlatform }] = await imageModules();
  const resolved = await resolveImage(reference, {
    pull: parsePullPolicy(flags.pull),
    platform: flags.platform === undefined ? null : parsePlatform(flags.platform),
    insecureRegistries: [],
  });
  const run = imageRun(reference, resolved.config.config, {
    args,
    env: [],
    ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint } : {}),
    ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
  });
  return { name: resolved.record.name, id: resolved.record.config, manifest: resolved.record.manifest, layers: resolved.layers, ...run };
}

/** --network NAME of a user-defined network, read from its definition (built-in modes need none, nor the module). */
async function userNetworkOf(name: string | undefined) {
  if (name === undefined || ['bridge', 'host', 'none'].includes(name)) return null;
  const { existingNetwork } = await import('../network/networks.js');
  try {
    return existingNetwork(name);
  } catch (cause) {
    throw new UsageError(`invalid --network "${name}": ${(cause as Error).message} (expected bridge, none, host or a network's name)`);
  }
}

/** Returns the exit code: the container's status, or 128 + N when signal N killed it (as a shell reports it). */
export async function run(command: string[], flags: RunFlags): Promise<number> {
  // `--timings` takes an optional value, so in `run --timings /bin/sh` commander reads the command as the format.
  // A value that is not a format, and was not written as --timings=VALUE, is given back to the command.
  const timings = flags.timings;
  if (typeof timings === 'string' && !['text', 'json'].includes(timings) && !process.argv.includes(`--timings=${timings}`)) {
    command = [timings, ...command];
    flags = { ...flags, timings: true };
  }
  if (flags.envFile !== undefined && flags.envFile.length > 0) {
    const { readEnvFiles } = await import('../container/env-file.js');
    flags = { ...flags, env: [...readEnvFiles(flags.envFile), ...(flags.env ?? [])] };
  }
  if (flags.rootfs === undefined && command[0] !== undefined && !command[0].startsWith('/')) {
    // An image reference: the built-in rootfs's name runs that rootfs. (Loaded here: a path run needs none of it.)
    const { BUILTIN_COMMAND, isBuiltinImage } = await import('../image/builtin.js');
    imageModules().catch(() => {}); // the image modules load meanwhile (a failure surfaces where they are used)
    if (isBuiltinImage(command[0])) command = command.length > 1 ? command.slice(1) : BUILTIN_COMMAND;
  }
  const image = await imageOf(command, flags);
  const network = await userNetworkOf(flags.network);
  const spec = buildRunSpec(flags, command, {
    ...(network !== null ? { network } : {}),
    defaultRootfs: defaultRootfs(),
    subnet: Subnet.parse(SUBNET_CIDR),
    hostEnv: rawEnv(process.env),
    cwd: process.cwd(),
    ...(image !== null ? { image } : {}),
  });
  if (flags.dryRun) {
    const { dryRun } = await import('../container/dry-run.js');
    process.stdout.write(await dryRun(spec, process.argv.slice(2)));
    return 0;
  }
  const { id, status } = await runContainer(spec);
  if (status === null) {
    process.stdout.write(`${id}\n`); // -d: the container runs on under its monitor
    return 0;
  }
  const code = exitCodeOf(status);
  if (code === null) throw new MinictrError(`wait for container: waitid failed with errno ${status.errno ?? 'unknown'}`);
  return code;
}
