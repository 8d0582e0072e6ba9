// `minictr port CONTAINER [PRIVATE_PORT[/PROTO]]`: a running container's published ports in Docker's format,
// "80/tcp -> 0.0.0.0:32768" for each, or only the host addresses ("0.0.0.0:32768") of one container port. The
// mappings are those the container's journal records, host ports chosen by -P included.

import { MinictrError, UsageError } from '../errors.js';
import { currentContainers, resolveContainer } from '../container/lookup.js';
import type { PortMapping } from '../network/ports.js';

function hostAddress(mapping: PortMapping): string {
  return `${mapping.hostIp ?? '0.0.0.0'}:${mapping.hostPort}`;
}

/** PORT or PORT/PROTO as `port` takes it: the container port and protocol (tcp when none is given). */
function parsePrivatePort(text: string): { port: number; protocol: string } {
  const match = /^(\d{1,5})(?:\/(tcp|udp))?$/.exec(text);
  const port = match ? Number(match[1]) : NaN;
  if (!match || port < 1 || port > 65535) throw new UsageError(`invalid private port "${text}": expected PORT[/tcp|udp], PORT in 1-65535`);
  return { port, protocol: match[2] ?? 'tcp' };
}

export async function port(ref: string, privatePort: string | undefined): Promise<number> {
  const wanted = privatePort === undefined ? null : parsePrivatePort(privatePort);
  const container = resolveContainer(ref, await currentContainers({ all: true }));
  const ports = [...container.ports].sort((a, b) => a.containerPort - b.containerPort || a.protocol.localeCompare(b.protocol) || a.hostPort - b.hostPort);
  if (wanted === null) {
    for (const mapping of ports) process.stdout.write(`${mapping.containerPort}/${mapping.protocol} -> ${hostAddress(mapping)}\n`);
    return 0;
  }
  const matching = ports.filter((mapping) => mapping.containerPort === wanted.port && mapping.protocol === wanted.protocol);
  if (matching.length === 0) throw new MinictrError(`no public port '${wanted.port}/${wanted.protocol}' published for ${ref}`, 'lookup');
  for (const mapping of matching) process.stdout.write(`${hostAddress(mapping)}\n`);
  return 0;
}
