import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveCapabilities } from '../../src/container/capabilities.js';
import { cgroupCreateLines, MASKED_PATHS, notReproduced, READ_ONLY_PATHS, setprivWords } from '../../src/container/dry-run-profile.js';
import type { Plan } from '../../src/container/plan.js';

/** The string literals of a `constexpr const char* NAME[] = {...};` in native/src/child.cc. */
function nativeList(name: string): string[] {
  const source = readFileSync(new URL('../../native/src/child.cc', import.meta.url), 'utf8');
  const body = new RegExp(`${name}\\[\\] = \\{([^}]*)\\}`).exec(source)?.[1] ?? '';
  return [...body.matchAll(/"([^"]*)"/g)].map((match) => match[1]!);
}

function plan(spec: Partial<Plan['spec']>, user: Plan['user'] = null): Plan {
  const base = { privileged: false, capabilities: resolveCapabilities([], []), tty: false, detach: false, init: false, name: null, ports: [] };
  return { spec: { ...base, ...spec }, user } as unknown as Plan;
}

describe('--dry-run security profile and cgroup', () => {
  it('masks exactly the paths the native child masks', () => {
    expect(MASKED_PATHS).toEqual(nativeList('kMaskedPaths'));
    expect(READ_ONLY_PATHS).toEqual(nativeList('kReadOnlyPaths'));
  });

  it("gives setpriv Docker's default capabilities, no_new_privs and the user", () => {
    const keep = '-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap,+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap';
    expect(setprivWords(plan({}))).toEqual(['setpriv', '--no-new-privs', `--bounding-set=${keep}`, `--inh-caps=${keep}`, '--']);
    expect(setprivWords(plan({}, { uid: 1000, gid: 100, home: '/' }))).toEqual([
      'setpriv', '--no-new-privs', `--bounding-set=${keep}`, '--inh-caps=-all', '--reuid=1000', '--regid=100', '--groups=100', '--',
    ]);
    expect(setprivWords(plan({ privileged: true }))).toEqual([]);
    expect(setprivWords(plan({ privileged: true }, { uid: 1, gid: 1, home: '/' }))).toEqual(['setpriv', '--reuid=1', '--regid=1', '--groups=1', '--']);
  });

  it('writes each limit after making its directory, and names what it cannot do', () => {
    expect(cgroupCreateLines([{ dir: '/sys/fs/cgroup/pids/minictr/x', files: [['pids.max', '20']], enable: [], devices: null }])).toEqual([
      'mkdir -p /sys/fs/cgroup/pids/minictr/x',
      'echo 20 > /sys/fs/cgroup/pids/minictr/x/pids.max',
    ]);
    const v2 = [{ dir: '/sys/fs/cgroup/minictr/x', files: [], enable: [], devices: [] }];
    const text = notReproduced(plan({ tty: true, detach: true, name: 'web' }), v2, '10.0.0.2').join('\n');
    for (const named of ['seccomp', 'BPF_CGROUP_DEVICE', 'veth filter', '-t:', '-d:', '--name web']) expect(text).toContain(named);
    expect(notReproduced(plan({ privileged: true }), [], null).join('\n')).not.toContain('seccomp');
  });
});
