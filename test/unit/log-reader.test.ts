import { appendFileSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logFiles, readLog, type LogRecord } from '../../src/container/log-reader.js';

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

  it('reads rotated files oldest first: container.log.2, .1, then container.log', async () => {
    const { dir, path } = logDir('2026-11-27T03:56:46.5Z stdout F five\n');
    writeFileSync(`${path}.1`, '2026-11-27T03:56:46.3Z stdout F three\n2026-11-27T03:56:46.4Z stdout F four\n');
    writeFileSync(`${path}.2`, '2026-11-27T03:56:46.1Z stdout F one\n2026-11-27T03:56:46.2Z stderr F two\n');
    writeFileSync(`${path}.x`, '2026-11-27T03:56:46.0Z stdout F not a log file\n');
    expect(logFiles(path)).toEqual([`${path}.2`, `${path}.1`, path]);
    expect(await collect(readLog(path, { follow: false, ended: () => true, dir }))).toEqual([
      ['stdout', 'one\n'],
      ['stderr', 'two\n'],
      ['stdout', 'three\n'],
      ['stdout', 'four\n'],
      ['stdout', 'five\n'],
    ]);
  });

  it('follows across rotations as the monitor makes them: the file moves up to .1, a new container.log starts', async () => {
    const record = (n: number) => `2026-11-27T03:56:46.${n}Z stdout F line ${n}\n`;
    const { dir, path } = logDir(record(1));
    const seen: string[] = [];
    let ended = false;
    const following = (async () => {
      for await (const entry of readLog(path, { follow: true, ended: () => ended, dir })) seen.push(entry.data.toString());
    })();
    const waitFor = async (count: number) => {
      for (const end = Date.now() + 2000; seen.length < count && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const rotate = (next: number) => {
      renameSync(path, `${path}.1`); // max-file 2: replaces the older .1
      writeFileSync(path, record(next));
    };
    await waitFor(1);
    // Line 2 reaches the file the reader holds just before that file is rotated: it is read before moving on.
    appendFileSync(path, record(2));
    rotate(3);
    await waitFor(3);
    // Two rotations before the reader wakes: the file it holds is gone from the directory, so it goes on with the
    // oldest one left.
    rotate(4);
    rotate(5);
    await waitFor(5);
    expect(seen).toEqual(['line 1\n', 'line 2\n', 'line 3\n', 'line 4\n', 'line 5\n']);
    ended = true;
    writeFileSync(join(dir, 'exit.json'), '{}');
    await following;
  });

  it('follows a log that starts over (max-file 1: removed, then created anew)', async () => {
    const { dir, path } = logDir('2026-11-27T03:56:46.1Z stdout F one\n');
    const seen: string[] = [];
    let ended = false;
    const following = (async () => {
      for await (const entry of readLog(path, { follow: true, ended: () => ended, dir })) seen.push(entry.data.toString());
    })();
    for (const end = Date.now() + 2000; seen.length < 1 && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 5));
    unlinkSync(path);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the reader finds no file for a while
    writeFileSync(path, '2026-11-27T03:56:46.2Z stdout F two\n');
    ended = true;
    writeFileSync(join(dir, 'exit.json'), '{}');
    await following;
    expect(seen).toEqual(['one\n', 'two\n']);
  });
});
