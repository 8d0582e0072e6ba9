// `minictr ps`: the running containers, as a table (Docker's columns), ids only (-q), or JSON.

import { listContainers, type ContainerInfo } from '../container/lookup.js';
import { describeMapping } from '../network/ports.js';

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} seconds ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} minutes ago`;
  return `${Math.round(seconds / 3600)} hours ago`;
}

function row(c: ContainerInfo): string[] {
  const command = c.argv.join(' ');
  return [
    c.id.slice(0, 12),
    c.name ?? '',
    command.length > 30 ? `${command.slice(0, 29)}…` : command,
    ago(c.createdAt),
    c.process === null ? 'Created' : 'Up',
    c.address ?? '',
    c.ports.map((m) => describeMapping(m, c.address ?? '?')).join(', '),
  ];
}

export async function ps(flags: { quiet?: boolean; format?: string }): Promise<number> {
  const containers = listContainers();
  if (flags.quiet) {
    for (const c of containers) process.stdout.write(`${c.id.slice(0, 12)}\n`);
  } else if (flags.format === 'json') {
    process.stdout.write(`${JSON.stringify(containers, null, 2)}\n`);
  } else {
    const rows = [['CONTAINER ID', 'NAME', 'COMMAND', 'CREATED', 'STATUS', 'IP', 'PORTS'], ...containers.map(row)];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => r[column]!.length)));
    for (const r of rows) process.stdout.write(`${r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ').trimEnd()}\n`);
  }
  return 0;
}
