// `minictr doctor`: one line per check on stdout, with its fix; exit status 1 when something blocks containers.

import { runDoctor, type Level } from '../doctor.js';

const MARK: Record<Level, string> = { ok: 'ok     ', warning: 'warning', error: 'error  ' };

export async function doctor(flags: { format?: string }): Promise<number> {
  const findings = await runDoctor();
  if (flags.format === 'json') process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  else {
    for (const finding of findings) {
      process.stdout.write(`${MARK[finding.level]}  ${finding.check}: ${finding.message}\n`);
      if (finding.fix !== undefined && finding.level !== 'ok') process.stdout.write(`         fix: ${finding.fix}\n`);
    }
  }
  return findings.some((finding) => finding.level === 'error') ? 1 : 0;
}
