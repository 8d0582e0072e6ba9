// --env-file as Docker reads it, and how its entries combine with -e.
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../src/container/env-file.js';
import { parseEnv } from '../../src/container/spec.js';
import { UsageError } from '../../src/errors.js';

describe('parseEnvFile', () => {
  it('takes KEY=VALUE as written, KEY alone, and skips comments and blank lines', () => {
    const text = '# settings\n\nA=1\n  B="quoted stays"\r\nC=x=y #not a comment\nHOME\nEMPTY=\n';
    expect(parseEnvFile(text, 'f')).toEqual(['A=1', 'B="quoted stays"', 'C=x=y #not a comment', 'HOME', 'EMPTY=']);
  });

  it('refuses a name with whitespace, naming the file and line', () => {
    expect(() => parseEnvFile('A=1\nMY VAR=2\n', 'app.env')).toThrow(UsageError);
    expect(() => parseEnvFile('A=1\nMY VAR=2\n', 'app.env')).toThrow(/app\.env, line 2/);
    expect(() => parseEnvFile('=x\n', 'app.env')).toThrow(/line 1/);
  });
});

describe('parseEnv', () => {
  it('lets a later entry win, in the place of the first (files first, then -e)', () => {
    const entries = [...parseEnvFile('A=file\nB=file\nTOKEN\n', 'f'), 'A=flag'];
    expect(parseEnv(entries, { TOKEN: 'abc' })).toEqual(['A=flag', 'B=file', 'TOKEN=abc']);
  });
});
