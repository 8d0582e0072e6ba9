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

  it('forgets every undo once handed over', async () => {
    let count = 0;
    const teardown = new Teardown();
    teardown.defer('mine', () => void count++);
    teardown.handOver();
    expect(teardown.handedOver).toBe(true);
    expect(await teardown.run()).toEqual([]);
    expect(count).toBe(0);
  });
});
