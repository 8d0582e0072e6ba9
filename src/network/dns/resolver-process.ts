// Starting and stopping a network's resolver (server.ts). Its pid and start time are kept in
// /run/minictr/networks/NAME/resolver; a run on the network makes sure the process named there lives, else starts
// one and waits for its "ready" (it is then bound to the gateway, so the container's first query is answered). Two
// runs may start one each at once: the second cannot bind, exits 3, and the first one serves.

import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MinictrError } from '../../errors.js';
import { nativeAddon } from '../../native/index.js';
import { ownerOf } from '../../sys/exclusive-file.js';
import { isAlive, killAndWait, startTimeOf, type ProcessRef } from '../../sys/proc.js';
import { writeFileNamed } from '../../sys/reserved-space.js';
import { nftablesLoadSettled } from '../firewall.js';
import { networkStateDir, type UserNetwork } from '../networks.js';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
/** The resolver is a small process: V8 needs little heap for a few hundred names (see the README's numbers). */
const NODE_FLAGS = ['--max-old-space-size=16', '--max-semi-space-size=1', '--v8-pool-size=1'];
const BIND_ELSEWHERE = 3;

function pidFile(network: UserNetwork): string {
  return join(networkStateDir(network), 'resolver');
}

function recorded(network: UserNetwork): ProcessRef | null {
  const [pid, startTime] = (ownerOf(pidFile(network)) ?? '').split(' ').map(Number);
  return pid !== undefined && startTime !== undefined && pid > 0 ? { pid, startTime } : null;
}

/** The resolver's process, if it runs. */
export function runningResolver(network: UserNetwork): ProcessRef | null {
  const ref = recorded(network);
  return ref !== null && isAlive(ref) ? ref : null;
}

/** Makes sure the network's resolver runs (its gateway address must be on the bridge already). */
export async function ensureResolver(network: UserNetwork): Promise<void> {
  if (runningResolver(network) !== null) return;
  // The resolver opens the directory before it becomes nobody, and then needs only to search it (server.ts).
  mkdirSync(networkStateDir(network), { recursive: true });
  chmodSync(networkStateDir(network), 0o711);
  // Loaded here: node:child_process (with net and dgram) costs every run about 2.5 ms to load, and few need it.
  const { spawn } = await import('node:child_process');
  // The resolver outlives this run: nothing minictr's caller left open (a pipe it waits on, a host directory) may
  // live on in it, nor libnftables' socket while it is being opened on the thread pool (-p).
  await nftablesLoadSettled();
  nativeAddon().closeOnExecFrom(3);
  // Nor NODE_EXTRA_CA_CERTS: Node would parse that file as it starts (30 ms for a system bundle) and keep the
  // certificates for the resolver's life; it makes no TLS connection.
  const { NODE_EXTRA_CA_CERTS: _unused, ...env } = process.env;
  const child = spawn(process.execPath, [...NODE_FLAGS, SERVER, networkStateDir(network), network.gateway, network.subnet], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const outcome = await new Promise<'ready' | number>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve('ready'));
    child.on('exit', (code) => resolve(code ?? 1));
    child.on('error', () => resolve(1));
  });
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  if (outcome === BIND_ELSEWHERE) return; // another run's resolver serves the network
  if (outcome !== 'ready') throw new MinictrError(`start the DNS resolver of network ${network.name} on ${network.gateway}:53: ${stderr.trim() || `exit ${outcome}`}`);
  writeFileNamed(pidFile(network), `${child.pid} ${startTimeOf(child.pid!) ?? 0}\n`);
}

/** Stops the network's resolver, if it runs. */
export async function stopResolver(network: UserNetwork): Promise<void> {
  const ref = recorded(network);
  if (ref !== null) await killAndWait(ref);
}
