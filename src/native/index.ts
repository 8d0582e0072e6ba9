// Loads the native addon built by node-gyp (native/build). When it cannot be loaded the error lists every path
// tried and how to build it, instead of a bare "Cannot find module".

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MinictrError, messageOf } from '../errors.js';
import type { NativeAddon } from './types.js';

export type * from './types.js';

const candidates = ['../../native/build/Release/minictr.node', '../../native/build/Debug/minictr.node'].map((relative) =>
  fileURLToPath(new URL(relative, import.meta.url)),
);

let loaded: NativeAddon | undefined;

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
