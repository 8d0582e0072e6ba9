// iproute2 in batch mode: all of a run's link and address changes go to one `ip -force -batch -`, so a run costs
// one process spawn however many objects it creates. With -force ip carries on after a failing line and reports
// each failure followed by "Command failed -:N"; the caller decides which failures are harmless (a bridge that a
// concurrent run has just created) and every other one becomes an error naming its line.

import { existsSync } from 'node:fs';
import { CommandError, runCommand } from '../sys/command.js';

export interface BatchFailure {
  line: string;
  message: string;
}

/** Failures of a batch, one per failed line, from ip's stderr. */
export function parseBatchFailures(lines: readonly string[], stderr: string): BatchFailure[] {
  const failures: BatchFailure[] = [];
  const marker = /^Command failed -:(\d+)$/;
  let pending: string[] = [];
  for (const text of stderr.split('\n')) {
    const match = marker.exec(text.trim());
    if (match) {
      failures.push({ line: lines[Number(match[1]) - 1] ?? `line ${match[1]}`, message: pending.join(' ').trim() });
      pending = [];
    } else if (text.trim() !== '') {
      pending.push(text.trim());
    }
  }
  return failures;
}

/**
 * Runs `lines` in one ip process. Failures that `tolerate` accepts are ignored; the first other one is thrown as
 * "<line>: <message>".
 */
export async function ipBatch(
  lines: readonly string[],
  tolerate: (failure: BatchFailure) => boolean = () => false,
): Promise<void> {
  if (lines.length === 0) return;
  try {
    await runCommand(['ip', '-force', '-batch', '-'], `${lines.join('\n')}\n`);
  } catch (cause) {
    if (!(cause instanceof CommandError)) throw cause;
    const failures = parseBatchFailures(lines, cause.stderr);
    if (failures.length === 0) throw cause;
    const fatal = failures.find((failure) => !tolerate(failure));
    if (fatal !== undefined) throw new Error(`ip ${fatal.line}: ${fatal.message}`, { cause });
  }
}

/**
 * Whether a link exists in minictr's own network namespace. /proc/sys/net is per network namespace of the reader,
 * whereas /sys/class/net shows the namespace of whoever mounted /sys, which in a scratch namespace is the host.
 */
export function linkExists(name: string): boolean {
  return existsSync(`/proc/sys/net/ipv4/conf/${name}`);
}
