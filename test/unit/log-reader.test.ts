import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLog, type LogRecord } from '../../src/container/log-reader.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function collect(records: AsyncGenerator<LogRecord>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const record of records) out.push([record.stream, record.data.toString('latin1')]);
  return out;
}

function logDir(content: string | Buffer): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'minictr-log-'));
  dirs.push(dir);
  const path = join(dir, 'container.log');
  writeFileSync(path, content);
  return { dir, path };
}

describe('readLog (CRI log records)', () => {
  it('gives full lines with their newline, partial ones without, each with its stream', async () => {
    const { dir, path } = logDir(
      '2026-11-27T03:56:46.683598402Z stdout F hello\n' +
        '2026-11-27T03:56:46.683695956Z stderr F oops\n' +
        '2026-11-27T03:56:46.683695957Z stdout P no newline yet\n' +
        'garbage line\n' +
        '2026-11-27T03:56:46.683695958Z stdout F  two  spaces \n',
    );
    expect(await collect(readLog(path, { follow: false, ended: () => true, dir }))).toEqual([
      ['stdout', 'hello\n'],
      ['stderr', 'oops\n'],
      ['stdout', 'no newline yet'],
      ['stdout', ' two  spaces \n'],
    ]);
  });

  it('keeps bytes as they are', async () => {
    const { dir, path } = logDir(Buffer.concat([Buffer.from('2026-11-27T03:56:46.1Z stdout F '), Buffer.from([0xff, 0x00, 0xfe]), Buffer.from('\n')]));
    const [[, data]] = (await collect(readLog(path, { follow: false, ended: () => true, dir }))) as [[string, string]];
    expect(Buffer.from(data, 'latin1')).toEqual(Buffer.from([0xff, 0x00, 0xfe, 0x0a]));
  });

  it('follows appended records until the container has ended', async () => {
    const { dir, path } = logDir('2026-11-27T03:56:46.1Z stdout F one\n');
    let ended = false;
    const seen: string[] = [];
    const following = (async () => {
      for await (const record of readLog(path, { follow: true, ended: () => ended, dir })) seen.push(record.data.toString());
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    appendFileSync(path, '2026-11-27T03:56:46.2Z stdout F two\n');
    // Seen while still following, well before the reader's 1 s safety net: inotify woke it.
    for (const end = Date.now() + 500; seen.length < 2 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(seen).toEqual(['one\n', 'two\n']);
    ended = true;
    writeFileSync(join(dir, 'exit.json'), '{}');
    await following;
    expect(seen).toEqual(['one\n', 'two\n']);
  });
});
