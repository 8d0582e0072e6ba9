// Bytes through strings (src/sys/bytes.ts) and the --dry-run script's shell words (src/sys/shell-quote.ts). The
// quoted words are checked by bash itself: `printf '%s\0' WORD` must print exactly the value's bytes.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeBytes, encodeBytes } from '../../src/sys/bytes.js';
import { shellQuote } from '../../src/sys/shell-quote.js';

const bytes = (...values: number[]) => Buffer.from(values);

describe('decodeBytes and encodeBytes', () => {
  it('leave valid UTF-8 as Node decodes it', () => {
    for (const text of ['', 'plain', 'é', '日本', '😀', '\ufffd', 'a\u{10080}b']) {
      expect(decodeBytes(Buffer.from(text))).toBe(text);
      expect(encodeBytes(text)).toEqual(Buffer.from(text));
    }
  });

  it('keep every byte that is not UTF-8, as a lone surrogate', () => {
    const cases: [Buffer, string][] = [
      [bytes(0x61, 0xff, 0x62), 'a\udcffb'],
      [bytes(0xc3), '\udcc3'], // truncated
      [bytes(0xc0, 0x80), '\udcc0\udc80'], // overlong
      [bytes(0xed, 0xa0, 0x80), '\udced\udca0\udc80'], // an encoded surrogate
      [bytes(0xf5, 0x80, 0x80, 0x80), '\udcf5\udc80\udc80\udc80'], // beyond U+10FFFF
      [bytes(0xe2, 0x82, 0x41), '\udce2\udc82A'],
      [Buffer.concat([bytes(0xff), Buffer.from('é')]), '\udcffé'],
    ];
    for (const [raw, text] of cases) {
      expect(decodeBytes(raw)).toBe(text);
      expect(encodeBytes(text)).toEqual(raw);
    }
  });

  it('give back any bytes exactly, through JSON too', () => {
    for (let i = 0; i < 2000; i++) {
      const raw = randomBytes(1 + (i % 40));
      const text = decodeBytes(raw);
      expect(encodeBytes(JSON.parse(JSON.stringify(text)) as string)).toEqual(raw);
    }
  });

  it('rawArgv reads the arguments Node lost from /proc/self/cmdline, past its own options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'minictr-argv-'));
    try {
      const module = fileURLToPath(new URL('../../dist/sys/bytes.js', import.meta.url));
      const script = join(dir, 'argv.mjs');
      writeFileSync(script, `import { rawArgv } from ${JSON.stringify(module)};\nprocess.stdout.write(JSON.stringify(rawArgv(process.argv).slice(2)));\n`);
      // bash puts the byte 0xff into the argument; Node's own spawn would encode a string as UTF-8.
      const output = execFileSync('bash', ['-c', 'exec "$@" $\'a\\xffb\' \'é\' ""', 'bash', process.execPath, '--no-warnings', script]);
      expect(JSON.parse(output.toString()) as string[]).toEqual(['a\udcffb', 'é', '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shellQuote', () => {
  const printed = (word: string) => execFileSync('bash', ['-c', `printf '%s\\0' ${word}`]);

  it('leaves plain words alone and single-quotes printable text', () => {
    expect(shellQuote('/bin/sh')).toBe('/bin/sh');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's $HOME")).toBe("'it'\\''s $HOME'");
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('é')).toBe("'é'");
  });

  it('makes one word on one line that bash reads back byte for byte', () => {
    const values: (string | Buffer)[] = [
      'x\ntouch /tmp/PWNED #',
      'a\nMINICTR_CHILD\nb',
      '$(touch /tmp/PWNED)',
      '`touch /tmp/PWNED`',
      `'"\\'\\"`,
      'back\\slash\\n',
      '\t\r\x1b[31m\x7f',
      '\u0085\u2028\u202e',
      'a\udcffb',
      bytes(0x61, 0xff, 0x0a, 0xc3),
      "it's\n$HOME",
      '!!',
    ];
    for (const value of values) {
      const word = shellQuote(value);
      expect(word).not.toMatch(/[\n\r]/);
      expect(printed(word)).toEqual(Buffer.concat([typeof value === 'string' ? encodeBytes(value) : value, bytes(0)]));
    }
  });

  it('keeps a comment a comment', () => {
    const word = shellQuote('x\necho INJECTED #');
    expect(execFileSync('bash', ['-c', `# run ${word}\necho ok`]).toString()).toBe('ok\n');
  });
});
