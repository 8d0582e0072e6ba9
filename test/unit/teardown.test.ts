import { describe, expect, it } from 'vitest';
import { Teardown } from '../../src/teardown.js';

describe('Teardown', () => {
  it('undoes in reverse order, keeps going after failures and reports each with its label', async () => {
    const done: string[] = [];
    const teardown = new Teardown();
    teardown.defer('first', () => void done.push('first'));
    teardown.defer('second', () => {
      throw new Error('boom');
    });
    teardown.defer('third', async () => void done.push('third'));
    const errors = await teardown.run();
    expect(done).toEqual(['third', 'first']);
    expect(errors.map((e) => e.message)).toEqual(['second: boom']);
  });

  it('runs each undo at most once', async () => {
    let count = 0;
    const teardown = new Teardown();
    teardown.defer('once', () => void count++);
    await teardown.run();
    expect(await teardown.run()).toEqual([]);
    expect(count).toBe(1);
  });

  it('skips an onlyIfClean undo after a failure, and says so', async () => {
    const done: string[] = [];
    const teardown = new Teardown();
    teardown.defer('remove journal', () => void done.push('journal'), { onlyIfClean: true });
    teardown.defer('stop process', () => {
      throw new Error('still running');
    });
    const errors = await teardown.run();
    expect(done).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([
      'stop process: still running',
      'remove journal: skipped after the failures above, kept for minictr gc',
    ]);
  });
});
