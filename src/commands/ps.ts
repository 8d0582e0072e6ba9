// `minictr ps`: containers as a table (Docker's columns, IMAGE after the id as there, plus the address), ids only
// (-q), or JSON. Running ones; with -a, also those kept as exited.

import { currentContainers, type ContainerInfo } from '../container/lookup.js';
import { defaultRootfs } from '../container/rootfs.js';
import { imageLabel } from '../image/builtin.js';
import { describeMapping } from '../network/ports.js';
import { duration, table } from '../format.js';
import { shortId } from '../ids.js';

function status(c: ContainerInfo): string {
  if (c.status === 'exited') return `Exited (${c.exitCode ?? '?'}) ${c.finishedAt === null ? '' : `${duration(c.finishedAt)} ago`}`.trim();
  if (c.status === 'running' && c.startedAt !== null) return `Up ${duration(c.startedAt)}`;
  return 'Created';
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
    c.ports.map((m) => describeMapping(m, c.address ?? '?')).join(', '),
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
