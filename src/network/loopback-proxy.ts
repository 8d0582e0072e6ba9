// -p on [::1] for a container on a dual-stack network: minictr-proxy (native/src/proxy.cc), one small process per
// container, since kernel DNAT cannot serve IPv6 loopback (see network-firewall.ts). This module builds its argv,
// starts it and waits for its answer: every host port bound on [::1] and its privileges dropped (the container is
// released only after that), or the step and errno that failed, said here as an error naming the port. The run
// journals the process (its pid and start time) before committing it, so each teardown, and gc after a kill -9,
// ends it by pid; a minictr that dies before the commit leaves nothing behind (the proxy sees EOF and exits).

import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { messageOf, MinictrError, UsageError } from '../errors.js';
import { helperPath, nativeAddon } from '../native/index.js';
import { killAndWait, startTimeOf, waitGone, type ProcessRef } from '../sys/proc.js';
import type { PortMapping } from './ports.js';
import { parseIpv6 } from './subnet6.js';

/** nobody: what the proxy runs as once its ports are bound (it needs no privilege to forward). */
const NOBODY = 65534;

/** The proxy's argv: uid and gid, the container's address as 32 hex digits, then protocol:host port:container port. */
export function proxyArgv(mappings: readonly PortMapping[], address6: string): string[] {
  const address = parseIpv6(address6);
  if (address === null) throw new Error(`not an IPv6 address: ${address6}`);
  return [
    'minictr-proxy',
    String(NOBODY),
    String(NOBODY),
    address.toString(16).padStart(32, '0'),
    ...mappings.map((mapping) => `${mapping.protocol}:${mapping.hostPort}:${mapping.containerPort}`),
  ];
}

/**
 * The proxy's first line, as an error or null ("ready"). A port in use on [::1] is the user's to fix (exit 125);
 * anything else is a failure of the step it names.
 */
export function proxyFailure(line: string, mappings: readonly PortMapping[]): MinictrError | null {
  if (line === 'ready') return null;
  const match = /^error (.+) (\d+) (\d+)$/.exec(line);
  if (match === null) return new MinictrError(`start minictr-proxy: unexpected answer "${line}"`);
  const [, step, index, errno] = match;
  // The steps of one port (the others are the process's and name none).
  const mapping = ['socket', 'setsockopt', 'bind', 'listen'].includes(step!) ? mappings[Number(index)] : undefined;
  const port = mapping === undefined ? '' : `${mapping.hostPort}/${mapping.protocol}`;
  const name = getSystemErrorName(-Number(errno));
  if (step === 'bind' && name === 'EADDRINUSE') {
    return new UsageError(`cannot publish port ${port} on [::1]: a host process is already using it there`);
  }
  return new MinictrError(`start minictr-proxy: ${step}${port ? ` for port ${port}` : ''}: ${name}`);
}

/** A proxy that answered ready, not yet committed. */
export interface StartedProxy {
  ref: ProcessRef;
  /** Once the journal names `ref`: the proxy stays after this process ends, until the teardown kills it. */
  commit(): void;
}

/** Starts the proxy for `mappings` (those published over IPv6) towards `address6`, and waits until it is ready. */
export async function startProxy(mappings: readonly PortMapping[], address6: string): Promise<StartedProxy> {
  // Loaded here: a run that publishes nothing over IPv6 does not pay for Node's net module.
  const { Socket } = await import('node:net');
  let spawned: { pid: number; fd: number };
  try {
    spawned = nativeAddon().spawnHelper(helperPath('minictr-proxy'), proxyArgv(mappings, address6));
  } catch (cause) {
    throw new MinictrError(`start minictr-proxy: ${messageOf(cause)}`, 'failure', cause);
  }
  const control = new Socket({ fd: spawned.fd, readable: true, writable: true });
  // Never reaped by this process, so its /proc entry stays even after an exit.
  const ref = { pid: spawned.pid, startTime: startTimeOf(spawned.pid)! };
  // A reset of the socket (the proxy killed before it read the commit byte) says nothing: before the answer the
  // socket's close does (see firstLine), after it the proxy is the journal's.
  control.on('error', () => undefined);
  let line: string;
  try {
    line = await firstLine(control);
  } catch (cause) {
    control.destroy();
    await killAndWait(ref);
    throw new MinictrError(`start minictr-proxy: ${messageOf(cause)}`, 'failure', cause);
  }
  const failure = proxyFailure(line, mappings);
  if (failure !== null) {
    control.destroy();
    await waitGone(ref, 5000); // it exits after its answer: nothing of it is left
    throw failure;
  }
  return {
    ref,
    commit() {
      control.end('y');
      control.unref();
    },
  };
}

/** The control socket's first line; fails when the proxy ends without one. */
function firstLine(control: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    control.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    control.once('close', () => reject(new Error(`it exited without an answer${text ? ` ("${text}")` : ''}`)));
  });
}
