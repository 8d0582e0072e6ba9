import { describe, expect, it } from 'vitest';
import { lookLines } from '../../src/container/step-mode.js';
import { RUN_STEPS } from '../../src/container/steps.js';

const at = (label: string) => RUN_STEPS.findIndex((step) => step.label === label);

describe('--step look lines', () => {
  it('fills in what is known, leaves out lines naming what is not, and repeats none', () => {
    const values = { pid: '42', state: '/run/minictr/containers/x', cgroup: '/sys/fs/cgroup/pids/minictr/x' };
    expect(lookLines(at('clone'), at('go→exec'), values)).toEqual([
      'ls -l /proc/42/ns',
      'lsns -p 42',
      'cat /proc/42/cgroup',
      'nsenter -t 42 -n ip link',
    ]);
    expect(lookLines(at('clone'), at('go→exec'), { ...values, bridge: 'minictr0', table: 'ip minictr' })).toContain('nft list table ip minictr');
    expect(lookLines(at('validate'), at('state'), values)).toEqual([]);
  });
});
