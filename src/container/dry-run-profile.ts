// The parts of `minictr run --dry-run`'s script that a real run does with system calls no shell has: the cgroup with
// its limits (cgroups.ts's planCgroups, the real run's own data), the security profile through util-linux's setpriv
// (bounding and inheritable capabilities, no_new_privs, the user), Docker's masked and read-only kernel paths as
// mounts, and the list of what the script cannot reproduce, which it prints at its top. Pure: lines of shell, every
// value one shellQuote word.
//
// The masked and read-only paths are the lists native/src/child.cc applies (kMaskedPaths, kReadOnlyPaths); a unit
// test reads them from there, so the two cannot drift apart.

import { shellQuote } from '../sys/shell-quote.js';
import { CAPABILITIES } from './capabilities.js';
import type { CgroupDir } from './cgroups.js';
import type { Plan } from './plan.js';

/** Docker's masked paths: read as empty (/dev/null over a file, an empty read-only tmpfs over a directory). */
export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Docker's read-only paths: global kernel settings and triggers. */
export const READ_ONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const q = shellQuote;

/**
 * The setpriv(1) words that give the process what the child's ApplyProcessProfile gives it: no_new_privs, every
 * capability but the kept ones out of the bounding set, the kept ones inheritable (none for a non-root user, whose
 * switch empties the other sets), then the user. Empty: nothing to apply (--privileged as root).
 */
export function setprivWords(plan: Plan): string[] {
  const { spec, user } = plan;
  const ids = user === null ? [] : [`--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${user.gid}`];
  if (spec.privileged) return ids.length === 0 ? [] : ['setpriv', ...ids, '--'];
  const byNumber = new Map(Object.entries(CAPABILITIES).map(([name, number]) => [number, name.toLowerCase()]));
  const keep = ['-all', ...spec.capabilities.map((number) => `+${byNumber.get(number)!}`)].join(',');
  const nonRoot = user !== null && user.uid !== 0;
  return ['setpriv', '--no-new-privs', `--bounding-set=${keep}`, `--inh-caps=${nonRoot ? '-all' : keep}`, ...ids, '--'];
}

/** The masked and read-only kernel paths, relative to the new root (the working directory of the lines). */
export function maskLines(plan: Plan): string[] {
  if (plan.spec.privileged) return ['# --privileged: no masked or read-only kernel paths.'];
  return [
    '# The security profile\'s filesystem part: masked kernel paths read as empty, kernel settings read-only.',
    ...MASKED_PATHS.map((path) => {
      const relative = q(`.${path}`);
      return `if [ -d ${relative} ]; then mount -t tmpfs -o ro,size=0 tmpfs ${relative}; elif [ -e ${relative} ]; then mount --bind ./dev/null ${relative}; fi`;
    }),
    ...READ_ONLY_PATHS.map((path) => {
      const relative = q(`.${path}`);
      return `[ ! -e ${relative} ] || { mount --rbind ${relative} ${relative} && mount -o remount,bind,ro,nosuid,nodev,noexec ${relative}; }`;
    }),
  ];
}

/** Step 2: the cgroup directories made and their limits written, before the container exists. */
export function cgroupCreateLines(cgroups: readonly CgroupDir[]): string[] {
  if (cgroups.length === 0) return ['# No cgroup: no limits were given and --privileged has no device policy.'];
  return cgroups.flatMap(({ dir, files, enable }) => [
    ...enable.flatMap(([path, value]) => [`mkdir -p ${q(path.slice(0, path.lastIndexOf('/')))}`, `echo ${q(value)} > ${q(path)}`]),
    `mkdir -p ${q(dir)}`,
    ...files.map(([name, value]) => `echo ${q(value)} > ${q(`${dir}/${name}`)}`),
  ]);
}

/**
 * PID 1's first lines: into every cgroup directory by itself, before it waits for its release. On v1 as minictr's
 * child does, "0" into `tasks`; on v2 minictr clones it into the cgroup (CLONE_INTO_CGROUP), which unshare cannot.
 */
export function cgroupJoinLines(cgroups: readonly CgroupDir[], v2: boolean): string[] {
  if (cgroups.length === 0) return [];
  const comment = v2
    ? '# Into its cgroup (minictr clones it there: clone3 CLONE_INTO_CGROUP, which unshare cannot).'
    : "# Into its cgroups, itself: \"0\" moves this one thread (minictr's child does the same before it waits).";
  return [comment, ...cgroups.map(({ dir }) => `echo 0 > ${q(`${dir}/${v2 ? 'cgroup.procs' : 'tasks'}`)}`)];
}

/** Teardown: the directories, retried while the last processes finish exiting, then their shared parent if empty. */
export function cgroupRemoveLines(cgroups: readonly CgroupDir[]): string[] {
  return cgroups.flatMap(({ dir }) => {
    const parent = dir.slice(0, dir.lastIndexOf('/'));
    return [
      `for try in $(seq 100); do [ -e ${q(dir)} ] && ! rmdir ${q(dir)} 2>/dev/null || break; sleep 0.05; done`,
      `rmdir ${q(parent)} 2>/dev/null || true`,
    ];
  });
}

/** What the script does not do that the run would, as comment lines; each names what minictr uses instead. */
export function notReproduced(plan: Plan, cgroups: readonly CgroupDir[], address: string | null): string[] {
  const { spec } = plan;
  const items: string[] = [];
  if (!spec.privileged) {
    items.push(
      'seccomp: minictr installs a BPF deny list (native/src/seccomp.cc: modules, kexec, keyrings, bpf, mount and',
      '  namespaces, ptrace, the clock...) with prctl(PR_SET_SECCOMP) just before exec; no standard tool installs one,',
      '  so here /proc/self/status says Seccomp: 0 and those calls are limited by the capabilities alone.',
    );
  }
  if (cgroups.some((cgroup) => cgroup.devices !== null)) {
    items.push('the device policy: a BPF_CGROUP_DEVICE program on the cgroup (cgroup v2); no standard tool attaches one.');
  }
  if (address !== null) {
    items.push(
      'the veth filter (eBPF in a cls_bpf filter on the host end\'s clsact ingress, the tc commands above): only the',
      '  nftables guard chain keeps this container from the host\'s loopback, and nothing from sending with another',
      '  container\'s addresses.',
    );
  }
  if (spec.tty) items.push('-t: minictr gives the command a pseudo-terminal of the container\'s own devpts; here it keeps the script\'s.');
  if (spec.detach) {
    items.push('-d: minictr hands the container to minictr-monitor, which logs its output (minictr logs); here a background', '  subshell runs it, its output in the file named at the end, and tears it down when it exits.');
  }
  if (spec.init) items.push('--init: minictr-init would run the command as its child and reap orphans; here the command is PID 1.');
  if (spec.name !== null) items.push(`--name ${q(spec.name)}: minictr's name registry is not used; the container is known by its PID only.`);
  if (spec.ports.length > 0 || address !== null) {
    items.push('minictr\'s leases and port claims: the address and host ports were free when this was written, nothing reserves them.');
  }
  items.push(
    'the order of the profile: minictr applies it last, just before exec; here PID 1 takes it first, then waits for the',
    '  setup done from outside (nsenter) and for "go": the command starts with the same capabilities, user and no_new_privs.',
    'a session of its own (setsid), not dumpable until exec, the descriptors closed on exec, paths resolved inside the',
    '  root only (openat2 RESOLVE_IN_ROOT): run this only with images whose paths you trust.',
  );
  return ['# Not reproduced (what a shell cannot do, or does differently):', ...items.map((item) => `#   ${item.startsWith('  ') ? item : `- ${item}`}`)];
}
