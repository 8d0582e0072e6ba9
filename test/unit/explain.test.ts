import { describe, expect, it } from 'vitest';
import { explainCgroup } from '../../src/container/explain.js';

describe('--explain details', () => {
  it('names each cgroup directory with its limits, and counts repeated rule files', () => {
    const [[label, text]] = explainCgroup([
      { dir: '/sys/fs/cgroup/memory/minictr/x', files: [['memory.limit_in_bytes', '67108864']], enable: [], devices: null },
      { dir: '/sys/fs/cgroup/devices/minictr/x', files: [['devices.deny', 'a'], ['devices.allow', 'c 1:3 rwm'], ['devices.allow', 'c 1:5 rwm']], enable: [], devices: null },
    ]) as [[string, string]];
    expect(label).toBe('cgroup');
    expect(text).toContain('/sys/fs/cgroup/memory/minictr/x (memory.limit_in_bytes=67108864); /sys/fs/cgroup/devices/minictr/x (devices.deny=a, devices.allow ×2)');
    expect(explainCgroup([{ dir: '/sys/fs/cgroup/minictr/x', files: [], enable: [], devices: [] }])[0]![1]).toContain('/sys/fs/cgroup/minictr/x (device policy: BPF_CGROUP_DEVICE program allowing 0 rule(s))');
  });
});
