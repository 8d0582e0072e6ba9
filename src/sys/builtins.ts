// Node's built-in modules that few runs use, required on first use instead of imported: an import loads the module
// in every run, used or not, and on Node 20 here node:crypto took 1.5 ms to load, node:tty (with node:net) 1 ms, node:stream 1 ms.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const crypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
export const stream = (): typeof import('node:stream') => require('node:stream') as typeof import('node:stream');
export const tty = (): typeof import('node:tty') => require('node:tty') as typeof import('node:tty');
export const tls = (): typeof import('node:tls') => require('node:tls') as typeof import('node:tls');
