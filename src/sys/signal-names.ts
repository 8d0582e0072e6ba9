// Signal names as users and images give them (KILL, SIGTERM, 15) turned into Node's names: for `kill -s`, `stop`
// and an image's StopSignal or --stop-signal, which `stop` sends instead of SIGTERM.

import { constants } from 'node:os';
import { UsageError } from '../errors.js';

/** Node's name of a signal given by name (with or without SIG) or number; `what` names the flag or field in errors. */
export function parseSignal(name: string, what = 'signal'): NodeJS.Signals {
  const upper = name.toUpperCase();
  const signal = (/^\d+$/.test(upper)
    ? Object.entries(constants.signals).find(([, n]) => n === Number(upper))?.[0]
    : upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals | undefined;
  if (signal === undefined || !(signal in constants.signals)) throw new UsageError(`invalid ${what} "${name}"`);
  return signal;
}
