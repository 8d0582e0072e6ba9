// `minictr ps`: containers as a table (Docker's columns, IMAGE after the id as there, plus the address), ids only
// (-q), or JSON. Running ones; with -a, also those kept as exited.

import { currentContainers, type ContainerInfo } from '../container/lookup.js';
import { defaultRootfs } from '../container/rootfs.js';
import { imageLabel } from '../image/builtin.js';
import type { PortMapping } from '../network/ports.js';
import { duration, table } from '../format.js';
import { shortId } from '../ids.js';

function status(c: ContainerInfo): string {
  if (c.status === 'exited') return `Exited (${c.exitCode ?? '?'}) ${c.finishedAt === null ? '' : `${duration(c.finishedAt)} ago`}`.trim();
  if (c.status === 'running' && c.startedAt !== null) return `Up ${duration(c.startedAt)}`;
  return 'Created';
}

/** A published port as docker ps shows it: 0.0.0.0:8080->80/tcp (the container's address is in the IP column). */
function dockerPort(mapping: PortMapping): string {
  return `${mapping.hostIp ?? '0.0.0.0'}:${mapping.hostPort}->${mapping.containerPort}/${mapping.protocol}`;
}

function row(c: ContainerInfo): string[] {
  const command = c.argv.join(' ');
  return [
    shortId(c.id),
    imageLabel(c.image, c.rootfs, defaultRootfs()),
    c.name ?? '',
    command.length > 30 ? `${command.slice(0, 29)}…` : command,
    `${duration(c.createdAt)} ago`,
    status(c),
    c.address ?? '',
    c.ports.map(dockerPort).join(', '),
  ];
}

export async function ps(flags: { quiet?: boolean; format?: string; all?: boolean }): Promise<number> {
  // Newest first, as docker ps lists them.
  const containers = (await currentContainers({ all: flags.all ?? false })).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (flags.quiet) {
    for (const c of containers) process.stdout.write(`${shortId(c.id)}\n`);
  } else if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify(containers, null, 2)}\n`);
  } else {
    process.stdout.write(table([['CONTAINER ID', 'IMAGE', 'NAME', 'COMMAND', 'CREATED', 'STATUS', 'IP', 'PORTS'], ...containers.map(row)]));
  }
  return 0;
}
