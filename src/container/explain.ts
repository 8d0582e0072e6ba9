// The lines --explain adds under a step for what that step sets up without a step of its own: the image (under
// validate), the cgroup (under address), and under go→exec what the child applies last, the user, capabilities,
// no_new_privs and seccomp, and the terminal. Pure: built from the plan, printed by report.ts's detail().

import { CAPABILITIES, DEFAULT_CAPABILITIES } from './capabilities.js';
import type { CgroupDir } from './cgroups.js';
import type { Plan } from './plan.js';

/** Under validate, for `run IMAGE`: which image, and the overlay's read-only layers. */
export function explainImage(spec: Plan['spec']): [string, string][] {
  if (spec.image === null) return [];
  return [
    [
      'image',
      `${spec.image.name}, manifest ${spec.manifest ?? 'unknown'}, config ${spec.image.id}; ${spec.layers.length} layer(s), ` +
        `the overlay's lowerdirs, top first: ${spec.layers.join(':')}`,
    ],
  ];
}

/** Under address: each cgroup directory and what is written into it; the device policy's rules by count. */
export function explainCgroup(cgroups: readonly CgroupDir[]): [string, string][] {
  if (cgroups.length === 0) return [['cgroup', 'none: no limits, and no device policy to apply']];
  const described = cgroups.map((cgroup) => {
    // v1's devices.allow takes one rule per write: a repeated file is shown by its count.
    const counts = new Map<string, number>();
    for (const [file] of cgroup.files) counts.set(file, (counts.get(file) ?? 0) + 1);
    const files = [...counts].map(([file, count]) =>
      count > 1 ? `${file} ×${count}` : `${file}=${cgroup.files.find(([name]) => name === file)![1]}`,
    );
    if (cgroup.devices !== null) files.push(`device policy: BPF_CGROUP_DEVICE program allowing ${cgroup.devices.length} rule(s)`);
    return `${cgroup.dir}${files.length > 0 ? ` (${files.join(', ')})` : ''}`;
  });
  return [['cgroup', `mkdir, then limits written; PID 1 is cloned into it (v2: CLONE_INTO_CGROUP) or joins it itself (v1: "0" into tasks) before "go": ${described.join('; ')}`]];
}

function capabilityNames(numbers: readonly number[]): string {
  const byNumber = new Map(Object.entries(CAPABILITIES).map(([name, number]) => [number, name]));
  return numbers.map((number) => `CAP_${byNumber.get(number) ?? number}`).join(' ');
}

/** Under go→exec: the security profile, in the order the child applies it, and the terminal. */
export function explainProfile(plan: Plan): [string, string][] {
  const { spec, user } = plan;
  const lines: [string, string][] = [
    [
      'user',
      user === null
        ? 'root (uid 0, gid 0) of the host: no user namespace'
        : `uid ${user.uid} gid ${user.gid} (--user ${spec.user}; setgroups([${user.gid}]), setresgid, setresuid), HOME ${user.home}`,
    ],
  ];
  if (spec.privileged) {
    lines.push(['capabilities', '--privileged: all of them, no masked paths, no seccomp filter, no no_new_privs']);
  } else {
    const defaults = DEFAULT_CAPABILITIES.map((name) => CAPABILITIES[name]!).sort((a, b) => a - b);
    const isDefault = defaults.length === spec.capabilities.length && defaults.every((n, i) => n === spec.capabilities[i]);
    const dropped = user !== null && user.uid !== 0 ? '; a non-root user gets none in those three (the bounding set keeps them)' : '';
    lines.push(
      [
        'capabilities',
        `${isDefault ? "Docker's default" : 'adjusted by --cap-add/--cap-drop'}, ${spec.capabilities.length}: ${capabilityNames(spec.capabilities)}; ` +
          `every other one dropped from the bounding set (PR_CAPBSET_DROP), then capset() of effective, permitted, inheritable${dropped}`,
      ],
      ['no_new_privs', 'prctl(PR_SET_NO_NEW_PRIVS): setuid binaries and file capabilities cannot raise privileges after exec'],
      [
        'seccomp',
        "prctl(PR_SET_SECCOMP) with a BPF deny list (native/src/seccomp.cc): modules, kexec, keyrings, bpf, mounts and namespaces, ptrace, the clock... fail with EPERM unless a kept capability allows them; installed last, just before exec",
      ],
    );
  }
  if (spec.readOnly) lines.push(['read-only', 'the root is remounted read-only just before exec']);
  lines.push(['terminal', explainTerminal(spec)]);
  return lines;
}

function explainTerminal(spec: Plan['spec']): string {
  if (spec.tty) {
    const relay = spec.detach ? "minictr-monitor holds its controller and logs what it prints" : `minictr relays it${spec.interactive ? ', this terminal raw: Ctrl-C goes to the container' : ''}`;
    return `-t: a pseudo-terminal of the container's own devpts (/dev/pts/0), its stdin, stdout, stderr and controlling terminal (setsid, TIOCSCTTY); ${relay}`;
  }
  if (spec.detach) return "none: stdout and stderr go to the container's log through minictr-monitor";
  return "none: PID 1 inherits minictr's stdin, stdout and stderr; signals to minictr are forwarded to it";
}
