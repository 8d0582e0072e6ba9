// The steps of `minictr run`, in order, in one list: lifecycle.ts follows it (its comments use these labels), each
// completed step is marked with its label for --explain and --timings (report.ts), and the crash tests' points
// (crash.ts) are the moments within the steps where a crash leaves the most behind. `look` lists the commands that
// show, from another terminal, what a step has made: --step (step-mode.ts) prints them, the container's pid and
// paths filled in, at the prompt that follows the step.

export const RUN_STEPS = [
  {
    label: 'validate',
    does: 'preflight, rootfs, command lookup: errors here leave nothing to undo',
    crashPoints: [],
    look: [],
  },
  {
    label: 'state',
    does: 'the state directory with its journal, the writable layer on disk, the --name reservation (when it is held: a gc, then a second try, as its holder may be dead)',
    crashPoints: ['state', 'name'],
    look: ['ls -l {state}', 'cat {state}/journal'],
  },
  {
    label: 'volumes',
    does: '-v, --mount, --tmpfs only: volumes made where missing (anonymous ones journaled first) and seeded from the image, missing -v host directories made',
    crashPoints: [],
    look: ['cat {state}/journal'],
  },
  {
    label: 'address',
    does: 'an IPv4 lease and the published host ports (bridge network only); the cgroup with its limits and device policy',
    crashPoints: ['lease', 'ports'],
    look: ['ls -l {leases}', 'ls {cgroup}', 'cat {state}/journal'],
  },
  {
    label: 'clone',
    does: 'clone3() into new namespaces (and on cgroup v2 into its cgroup); the child joins its v1 cgroups itself, then blocks on the release pipe',
    crashPoints: ['spawn'],
    look: ['ls -l /proc/{pid}/ns', 'lsns -p {pid}', 'cat /proc/{pid}/cgroup', 'nsenter -t {pid} -n ip link'],
  },
  {
    label: 'veth',
    does: 'network attach (network/attach.ts): bridge if missing and veth pair in one ip batch, then the veth filter',
    crashPoints: ['veth'],
    look: ['nsenter -t {pid} -n ip link', 'ip link show master {bridge}'],
  },
  {
    label: 'nat',
    does: 'beside veth: ip_forward, the published ports and the base ruleset in one libnftables transaction; then the bridge settings',
    crashPoints: ['nat'],
    look: ['nft list table {table}', 'sysctl net.ipv4.ip_forward net.ipv4.conf.{bridge}.route_localnet'],
  },
  {
    label: 'go→exec',
    does: '"go" on the release pipe: the child configures eth0, mounts its root, pivots, applies the security profile, execs',
    crashPoints: ['released'],
    look: ['nsenter -t {pid} -n ip addr', "grep -E '^(Uid|Cap|NoNewPrivs|Seccomp)' /proc/{pid}/status", 'cat /proc/{pid}/mountinfo'],
  },
  {
    label: 'detach',
    does: '-d only: the record names minictr-monitor as owner, the handoff pipe closes, minictr exits',
    crashPoints: ['handoff'],
    look: [],
  },
  { label: 'run', does: 'signals to minictr are forwarded to PID 1 until it exits', crashPoints: ['running'], look: [] },
  {
    label: 'teardown',
    does: 'the undos kept in memory (PID 1, the terminal), then the journal, last first (journal.ts); -d: by the monitor',
    crashPoints: [],
    look: [],
  },
] as const;

export type RunStep = (typeof RUN_STEPS)[number]['label'];

export type CrashPoint = (typeof RUN_STEPS)[number]['crashPoints'][number];
