// Loads the native addon built by node-gyp (native/build). When it cannot be loaded the error lists every path
// tried and how to build it, instead of a bare "Cannot find module".

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MinictrError, messageOf } from '../errors.js';
import type { NativeAddon } from './types.js';

export type * from './types.js';

const buildDirs = ['../../native/build/Release/', '../../native/build/Debug/'].map((relative) =>
  fileURLToPath(new URL(relative, import.meta.url)),
);
const candidates = buildDirs.map((dir) => `${dir}minictr.node`);

let loaded: NativeAddon | undefined;

/**
 * The path of a helper program built beside the addon: minictr-monitor (-d's container parent), minictr-init (every
 * container command and `exec` starts through it; with --init it stays as PID 1) or minictr-proxy (-p on [::1]).
 */
export function helperPath(name: 'minictr-monitor' | 'minictr-init' | 'minictr-proxy'): string {
  const path = buildDirs.map((dir) => `${dir}${name}`).find((candidate) => existsSync(candidate));
  if (path === undefined) throw new MinictrError(`cannot find ${name} in ${buildDirs.join(' or ')}; build it with: npm run build:native`);
  return path;
}

/** The addon if this process has loaded it; undefined otherwise (it is not loaded for this). */
export function loadedAddon(): NativeAddon | undefined {
  return loaded;
}

export function nativeAddon(): NativeAddon {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of candidates) {
    try {
      loaded = require(path) as NativeAddon;
      return loaded;
    } catch (cause) {
      tried.push(`  ${path}: ${messageOf(cause).split('\n')[0]}`);
    }
  }
  throw new MinictrError(`cannot load the native addon; tried:\n${tried.join('\n')}\nbuild it with: npm run build:native`);
}
