// `--env-file FILE`, read as Docker reads it (docker/cli opts/envfile.go): one variable per line, `KEY=VALUE` taken
// as written (no quotes removed, no expansion), a bare `KEY` copied from minictr's own environment, blank lines and
// lines starting with `#` skipped. The entries go before the -e flags, so -e wins over a file, and a later file
// over an earlier one.

import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/** The entries of an env file's text, in the `-e` form (`KEY=VALUE` or `KEY`); `file` names it in errors. */
export function parseEnvFile(text: string, file: string): string[] {
  const entries: string[] = [];
  for (const [n, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (key === '' || /\s/.test(key)) throw new UsageError(`invalid --env-file ${file}, line ${n + 1}: "${key}" is not a variable name`);
    entries.push(line);
  }
  return entries;
}

/** The entries of every file, in order; a file that cannot be read is the user's error, named. */
export function readEnvFiles(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (cause) {
      throw new UsageError(`read --env-file ${file}: ${(cause as Error).message.split(',')[0]}`);
    }
    return parseEnvFile(text, file);
  });
}
