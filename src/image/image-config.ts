// What an image's config decides about a run, with the run's flags on top, as Docker combines them (image-spec's
// "conversion" of a config to a runtime configuration):
// - command: the Entrypoint followed by the Cmd; arguments after the image replace the Cmd; --entrypoint replaces
//   the Entrypoint and drops the image's Cmd (an empty --entrypoint clears it, so the arguments run alone);
// - environment: the image's Env, then -e/--env-file, which win for the same key;
// - working directory: -w, else WorkingDir, else /; user: -u, else User;
// - StopSignal for `stop`, ExposedPorts for -P.
// Pure: the config comes in already read and checked.

import { UsageError } from '../errors.js';
import type { RunConfig } from './manifest.js';

export interface ImageRunFlags {
  /** Arguments after the image reference. */
  args: string[];
  /** --entrypoint; '' clears the image's. */
  entrypoint?: string;
  /** -e and --env-file, KEY=VALUE, already parsed. */
  env: string[];
  workdir?: string;
  user?: string;
}

export interface ImageRun {
  argv: string[];
  env: string[];
  workdir: string;
  user: string | null;
  stopSignal: string | null;
  /** "80/tcp", "53/udp", as the image declares them. */
  exposedPorts: string[];
}

function keyOf(assignment: string): string {
  const equals = assignment.indexOf('=');
  return equals < 0 ? assignment : assignment.slice(0, equals);
}

/** Later assignments win; the order of first appearance is kept. */
export function mergeEnv(...layers: string[][]): string[] {
  const merged = new Map<string, string>();
  for (const layer of layers) for (const assignment of layer) merged.set(keyOf(assignment), assignment);
  return [...merged.values()];
}

export function imageRun(reference: string, config: RunConfig, flags: ImageRunFlags): ImageRun {
  const entrypoint = flags.entrypoint !== undefined ? (flags.entrypoint === '' ? [] : [flags.entrypoint]) : (config.Entrypoint ?? []);
  const cmd = flags.args.length > 0 ? flags.args : flags.entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new UsageError(`no command given, and image ${reference} has neither Entrypoint nor Cmd`);
  const exposed = Object.keys(config.ExposedPorts ?? {});
  for (const port of exposed) {
    const number = parseInt(port, 10);
    if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/.test(port) || number < 1 || number > 65535) throw new UsageError(`image ${reference}: invalid ExposedPorts entry "${port}"`);
  }
  return {
    argv,
    env: mergeEnv(config.Env ?? [], flags.env),
    workdir: flags.workdir ?? (config.WorkingDir !== undefined && config.WorkingDir !== '' ? config.WorkingDir : '/'),
    user: flags.user ?? (config.User !== undefined && config.User !== '' ? config.User : null),
    stopSignal: config.StopSignal !== undefined && config.StopSignal !== '' ? config.StopSignal : null,
    exposedPorts: exposed.map((port) => (port.includes('/') ? port : `${port}/tcp`)).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b)),
  };
}
