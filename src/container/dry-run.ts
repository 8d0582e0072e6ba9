// `minictr run --dry-run`: the run as a bash script that does the same steps with standard tools (util-linux's
// unshare, nsenter, setpriv, mount and pivot_root, iproute2, nftables, coreutils), commented step by step. It
// changes nothing when generated; run as root, it builds the same container as far as a shell can, runs the
// command and cleans up after it. Every value in it, comments included, is one shellQuote word
// (src/sys/shell-quote.ts): whatever the command line holds, the script runs no command but its own.
//
// Its data is the run's own: the SpawnOptions handed to the native child, the cgroup directories and limits, the
// capabilities and user, the link operations (rendered as the ip commands equivalent to minictr's netlink requests,
// network/links.ts) and the nft script all come from plan.ts and cgroups.ts, so the script
// cannot drift from what `minictr run` does. Its shape differs where a shell must: PID 1 takes the security
// profile with setpriv(1) first (after pivot_root the host's setpriv is out of reach) and waits, while a root shell
// that nsenter(1) puts in its namespaces does the child's own steps; and it keeps its state under
// /run/minictr-script instead of minictr's registries. What it cannot reproduce (seccomp, the eBPF filters, -t's
// terminal...) it lists at its top (dry-run-profile.ts).

import { networkLeases, networkLeases6 } from '../network/networks.js';
import { parseIpv6 } from '../network/subnet6.js';
import { posix } from 'node:path';
import type { SpawnOptions } from '../native/index.js';
import { MinictrError } from '../errors.js';
import { ipLines } from '../network/links.js';
import { tcLines } from '../network/veth-filter.js';
import { BRIDGE } from '../network/names.js';
import { STATE_ROOT } from '../paths.js';
import { shellQuote } from '../sys/shell-quote.js';
import { leases, ports } from './registries.js';
import { shortId } from '../ids.js';
import { mountData } from './overlay.js';
import { cgroupV2, planCgroups, type CgroupDir } from './cgroups.js';
import { cgroupCreateLines, cgroupJoinLines, cgroupRemoveLines, maskLines, notReproduced, setprivWords } from './dry-run-profile.js';
import { hostNetwork, planRun, spawnOptions, type Plan } from './plan.js';
import type { RunSpec } from './spec.js';

const SCRIPT_ROOT = `${STATE_ROOT}-script`;

type ScriptSpawnOptions = ReturnType<typeof spawnOptions>;

const DEVICES: [string, number, number][] = [
  ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0],
];
const DEV_LINKS: [string, string][] = [
  ['pts/ptmx', 'ptmx'], ['/proc/self/fd', 'fd'], ['/proc/self/fd/0', 'stdin'], ['/proc/self/fd/1', 'stdout'], ['/proc/self/fd/2', 'stderr'],
];

/** The run's mounts, with volumes in the script's own state directory (it keeps no minictr volume store). */
function scriptMounts(plan: Plan, mounts: SpawnOptions['mounts'], root: string): SpawnOptions['mounts'] {
  return mounts.map((mount, i) => {
    const planned = plan.mounts[i]!;
    return planned.type === 'volume' ? { ...mount, source: `${root}/volumes/${planned.name}` } : mount;
  });
}

/**
 * -v, --mount, --tmpfs under the overlay (mounted at `target`, the working directory), parents first. A read-only
 * bind is read-only with every mount below its source, as minictr's (mount_setattr AT_RECURSIVE): mount(8) before
 * util-linux 2.39 has no recursive remount, so each mount findmnt(8) lists under it is remounted in turn. Unlike
 * minictr's child (native/src/mounts.cc), mkdir and mount here follow symlinks as the host does: run this script
 * only with images whose paths you trust.
 */
function mountLines(mounts: SpawnOptions['mounts'], target: string): string[] {
  if (mounts.length === 0) return [];
  const q = shellQuote;
  return [
    '# Volumes, before /proc, /dev and /sys. minictr resolves each path inside the root (openat2 RESOLVE_IN_ROOT) and',
    '# never through a symlink to the host; mkdir and mount below do not: trust the image before running this.',
    ...mounts.flatMap(({ kind, source, target: path, readOnly, data }) => {
      const relative = q(`.${path}`);
      if (kind === 'tmpfs') {
        return [`mkdir -p ${relative}`, `mount -t tmpfs -o ${q(['nosuid', 'nodev', 'noexec', ...(readOnly ? ['ro'] : []), ...(data ? [data] : [])].join(','))} tmpfs ${relative}`];
      }
      const make = `{ [ -d ${q(source)} ] && mkdir -p ${relative}; } || { mkdir -p ${q(`.${posix.dirname(path)}`)} && touch ${relative}; }`;
      // findmnt -r writes a space in a path as \x20: printf %b turns it back.
      const readOnlyLines = readOnly
        ? [`findmnt -R -r -n -o TARGET ${q(`${target}${path}`)} | while IFS= read -r m; do mount -o remount,bind,ro "$(printf '%b' "$m")"; done`]
        : [];
      return [make, `mount --rbind --make-rprivate ${q(source)} ${relative}`, ...readOnlyLines];
    }),
  ];
}

/** Step 1's volumes: -v host directories made where missing; volumes, empty, in the script's state directory. */
function volumeLines(plan: Plan, root: string): string[] {
  const q = shellQuote;
  const dirs = plan.mounts.flatMap((mount) =>
    mount.type === 'volume' ? [`${root}/volumes/${mount.name}`] : mount.createSource === true ? [mount.source] : [],
  );
  if (dirs.length === 0) return [];
  return [
    "# Volumes (minictr keeps them in /var/lib/minictr/volumes and seeds a new one from the image; here they are",
    '# empty and go with the script\'s state) and missing -v host directories (made, as Docker does).',
    ...dirs.map((dir) => `[ -e ${q(dir)} ] || mkdir -p ${q(dir)}`),
  ];
}

/**
 * The overlay root, by mount(8), which hands the kernel every option in one string, cut at one page. minictr's child
 * gives the layers one by one with fsconfig(lowerdir+) where the kernel has it (src/container/overlay.ts); where the
 * string would not fit, or a path holds a character it gives a meaning to, the script does what containers/storage
 * does instead: short symlinks to the layers, given relative to the directory that holds them.
 */
function overlayLines(overlay: SpawnOptions['overlay'], root: string): string[] {
  const q = shellQuote;
  if (overlay.options !== null) return [`mount -t overlay overlay -o ${q(overlay.options)} ${q(overlay.target)}`];
  const links = overlay.lower.map((_, i) => `l/${i}`);
  const options = mountData({ ...overlay, lower: links });
  if (options === null) throw new MinictrError(`--dry-run: mount(8) cannot take this overlay (upper ${overlay.upper}, work ${overlay.work})`);
  return [
    '# These layers do not fit in mount(8)\'s options as they are (at most one page, where \',\' \':\' and \'\\\' mean something).',
    '# minictr gives them to the kernel one by one (fsconfig lowerdir+); here, as containers/storage does, they are',
    '# short symlinks, given relative to the directory that holds them.',
    `mkdir ${q(`${root}/l`)}`,
    ...overlay.lower.map((layer, i) => `ln -s ${q(layer)} ${q(`${root}/${links[i]}`)}`),
    `(cd ${q(root)} && mount -t overlay overlay -o ${q(options)} ${q(overlay.target)})`,
  ];
}

/**
 * What the child does in its namespaces before it execs (minictr: native/src/child.cc), done here from outside by
 * a root shell that nsenter(1) puts in the container's namespaces: everything but the process profile, which PID 1
 * already has (pid1Script).
 */
function setupScript(plan: Plan, options: ScriptSpawnOptions, root: string): string[] {
  const q = shellQuote;
  const target = options.overlay.target;
  const lines = [
    'set -eu',
    '# Hostname, in the new UTS namespace (sethostname).',
    `echo ${q(options.hostname)} > /proc/sys/kernel/hostname`,
    '# Network, in the new network namespace: lo, then eth0 (created by the host side) and the default route.',
    'ip link set lo up',
  ];
  if (options.interface !== null) {
    const iface = options.interface;
    const ipv6 = iface.ipv6;
    lines.push(
      '# No IPv6 router advertisement is ever learned (CVE-2020-13401), where the kernel has IPv6.',
      ...['accept_ra', 'autoconf'].map((setting) => {
        const path = q(`/proc/sys/net/ipv6/conf/${iface.name}/${setting}`);
        return `[ ! -e ${path} ] || echo 0 > ${path}`;
      }),
      // A dual-stack network: no duplicate address detection, the addresses are usable at once.
      ...(ipv6 !== null ? [`echo 0 > ${q(`/proc/sys/net/ipv6/conf/${iface.name}/accept_dad`)}`] : []),
      `ip addr add ${q(`${iface.address}/${iface.prefixLength}`)} dev ${q(iface.name)}`,
      `ip link set ${q(iface.name)} up`,
      `ip route add default via ${q(iface.gateway)}`,
      ...(ipv6 !== null
        ? [`ip -6 addr add ${q(`${ipv6.address}/${ipv6.prefixLength}`)} dev ${q(iface.name)}`, `ip -6 route add default via ${q(ipv6.gateway)} dev ${q(iface.name)}`]
        : []),
    );
  }
  lines.push(
    '# Nothing mounted from here on propagates to the host.',
    'mount --make-rprivate /',
    '# The root: an overlay whose read-only lower layers are the rootfs (or an image\'s layers), the writable upper layer our own.',
    ...overlayLines(options.overlay, root),
    `cd ${q(target)}`,
    ...mountLines(scriptMounts(plan, options.mounts, root), target),
    '# /proc of the new PID namespace, a minimal /dev, read-only /sys.',
    'mkdir -p proc dev sys etc',
    'mount -t proc -o nosuid,nodev,noexec proc proc',
    'mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs dev',
    ...DEVICES.map(([name, major, minor]) => `mknod -m 666 dev/${name} c ${major} ${minor}`),
    ...options.devices.flatMap(({ path, type, major, minor, mode }) => [
      `mkdir -p ${q(`.${path.slice(0, path.lastIndexOf('/'))}`)}`,
      `rm -f ${q(`.${path}`)}`,
      `mknod -m ${mode.toString(8)} ${q(`.${path}`)} ${type} ${major} ${minor}`,
    ]),
    'mkdir dev/pts dev/shm',
    'mount -t devpts -o nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5 devpts dev/pts',
    'mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm dev/shm',
    ...DEV_LINKS.map(([to, name]) => `ln -s ${to} dev/${name}`),
    'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys',
    '# Identity and name resolution files, into the upper layer.',
    ...options.etcFiles.flatMap((file) => [`rm -f ${q(`.${file.path}`)}`, `printf '%s' ${q(file.content)} > ${q(`.${file.path}`)}`]),
    ...maskLines(plan),
    '# Working directory, created if missing.',
    `mkdir -p ${q(`.${options.workdir}`)}`,
    ...(plan.spec.readOnly ? ['# --read-only: every write above is done; the root becomes read-only.', `mount -o remount,bind,ro ${q(target)}`] : []),
    '# pivot_root into the overlay, then detach the host\'s tree. Every process of this mount namespace whose root was',
    '# the host\'s (PID 1 too) now has the overlay as its root.',
    'pivot_root . .',
    'umount -l .',
  );
  return lines;
}

/**
 * PID 1: it opens the release fifo, takes the security profile's process part with setpriv(1) while the host's
 * programs are still in its root, and waits. Released, it enters the working directory and execs the command with
 * exactly the container's environment, through the env(1) of the container's root.
 */
function pid1Script(plan: Plan, options: ScriptSpawnOptions, root: string, cgroups: readonly CgroupDir[]): string[] {
  const q = shellQuote;
  const setpriv = setprivWords(plan);
  const command = [options.execPath, ...options.argv.slice(1)];
  return [
    'set -eu',
    ...cgroupJoinLines(cgroups, cgroupV2()),
    '# The release fifo, opened read and write (no end-of-file while waiting), closed before exec (minictr: the release pipe).',
    `exec 3<> ${q(`${root}/go`)}`,
    '# Out of the host\'s working directory: pivot_root moves the processes whose root and cwd are the host\'s root.',
    'cd /',
    setpriv.length === 0
      ? '# No process profile to apply (--privileged, as root).'
      : "# The security profile's process part (minictr: ApplyProcessProfile in native/src/child.cc).",
    `exec ${[...setpriv, 'bash', '-c', 'read -r go <&3; exec 3<&-; cd -- "$1"; shift; exec env -i -- "$@"', 'pid1', options.workdir, ...options.env, ...command].map(q).join(' ')}`,
  ];
}

function dryRunScript(plan: Plan, address: string | null, invocation: readonly string[], address6: string | null = null): string {
  const { spec } = plan;
  const root = `${SCRIPT_ROOT}/${shortId(plan.id)}`;
  const q = shellQuote;
  const options = spawnOptions(plan, { upper: `${root}/upper`, work: `${root}/work`, merged: `${root}/merged` }, address, address6);
  const cgroups = planCgroups(plan.id, spec.limits, plan.deviceRules);
  const namespaces = ['--pid', '--mount', '--uts', '--ipc', ...(spec.network === 'host' ? [] : ['--net'])];
  const log = `${root}.log`;
  const lines = [
    '#!/bin/bash',
    `# minictr ${invocation.map(q).join(' ')}`,
    '# The steps minictr would take, with standard tools. Run as root: it builds the same container as far as a shell',
    '# can (the list below says where it cannot), runs the command and cleans up.',
    `# State lives in ${q(root)}${address === null ? '.' : `; no minictr lease is taken (${q(address)} was free when this was written).`}`,
    ...notReproduced(plan, cgroups, address),
    'set -eu',
    '',
    '# 1. State: the overlay\'s writable layer, its work directory, the mount point, and the release fifo.',
    `mkdir -p ${q(`${root}/upper`)} ${q(`${root}/work`)} ${q(`${root}/merged`)}`,
    `mkfifo ${q(`${root}/go`)}`,
    ...volumeLines(plan, root),
    '',
    '# 2. The cgroup (minictr: cgroups.ts), made and limited before the container exists; PID 1 is in it before "go".',
    ...cgroupCreateLines(cgroups),
    '',
    '# 3. What minictr\'s child does inside the new namespaces before exec (native/src/child.cc), run from outside in step 6.',
    `cat > ${q(`${root}/setup.sh`)} <<'MINICTR_SETUP'`,
    ...setupScript(plan, options, root),
    'MINICTR_SETUP',
    '# PID 1, which takes the security profile, then waits for "go".',
    `cat > ${q(`${root}/pid1.sh`)} <<'MINICTR_PID1'`,
    ...pid1Script(plan, options, root, cgroups),
    'MINICTR_PID1',
    '',
  ];
  // -d: from clone to teardown in the background, its output in a file (minictr: minictr-monitor and the log).
  if (spec.detach) lines.push('(');
  lines.push(
    `# 4. clone(): PID 1 in new ${namespaces.map((n) => n.slice(2)).join(', ')} namespaces, waiting for "go".`,
    // A job started with & reads /dev/null unless told otherwise; a run's PID 1 without -d reads minictr's stdin.
    `unshare ${namespaces.join(' ')} --fork --kill-child bash ${q(`${root}/pid1.sh`)} ${spec.detach ? '< /dev/null' : '<&0'} &`,
    'UNSHARE=$!',
    '# The container\'s PID 1 is unshare\'s child; the host knows it by this pid.',
    'PID=',
    '# (A PID 1 that failed at once, at its cgroup, ends unshare: its status is the script\'s.)',
    'while [ -z "$PID" ]; do kill -0 $UNSHARE 2>/dev/null || { wait $UNSHARE || exit $?; exit 1; }; PID=$(cat /proc/$UNSHARE/task/$UNSHARE/children 2>/dev/null || true); done',
    'PID=${PID%% *}',
  );
  const network = address === null ? null : hostNetwork(plan, address, '$PID', address6);
  if (network !== null) {
    lines.push(
      '',
      '# 5. Host side: the bridge if missing, then the veth pair with eth0 created inside the container\'s netns',
      '# (minictr sends the same as rtnetlink requests from its own process: see --explain).',
      `ip link show ${q(BRIDGE)} >/dev/null 2>&1 || ip -batch - <<'MINICTR_IP'`,
      ...ipLines(network.bridgeLink),
      'MINICTR_IP',
      'ip -batch - <<MINICTR_IP',
      ...ipLines(network.vethLink),
      'MINICTR_IP',
      '# minictr then puts its veth filter on the host end; its eBPF program is built in-process, which tc cannot',
      '# load from a script (see the end):',
      ...tcLines(network.veth).map((line) => `#   tc ${line}`),
      'echo 1 > /proc/sys/net/ipv4/ip_forward',
      `echo 1 > ${q(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`)}`,
      `[ ! -e ${q(`/proc/sys/net/ipv6/conf/${BRIDGE}`)} ] || { ${['accept_ra', 'autoconf'].map((setting) => `echo 0 > ${q(`/proc/sys/net/ipv6/conf/${BRIDGE}/${setting}`)};`).join(' ')} }`,
      '# NAT and published ports, one nftables transaction.',
      `nft -f - <<'MINICTR_NFT'`,
      ...network.nftScript.trimEnd().split('\n'),
      'MINICTR_NFT',
    );
  }
  lines.push(
    '',
    '# 6. The child\'s own steps, in its namespaces (nsenter forks into the PID namespace, so /proc is the container\'s).',
    `nsenter --target "$PID" --mount --uts --ipc ${spec.network === 'host' ? '' : '--net '}--pid -- bash ${q(`${root}/setup.sh`)}`,
    '',
    '# 7. Release PID 1.',
    `echo go > ${q(`${root}/go`)}`,
    '',
    '# 8. Wait for PID 1 (unshare exits with its status).',
    'STATUS=0',
    'wait $UNSHARE || STATUS=$?',
    '',
    '# 9. Teardown: the kernel removes the veth pair with the network namespace; the rest is ours to remove.',
  );
  const unpublish = network?.unpublishScript ?? null;
  if (unpublish !== null) lines.push(`nft -f - <<'MINICTR_NFT'`, ...unpublish.trimEnd().split('\n'), 'MINICTR_NFT');
  lines.push(...cgroupRemoveLines(cgroups), `rm -rf ${q(root)}`);
  if (spec.detach) {
    lines.push('exit $STATUS', `) < /dev/null > ${q(log)} 2>&1 &`, `echo ${q(`running in the background; its output: ${log}`)}`, 'exit 0', '');
  } else {
    lines.push(`rmdir ${q(SCRIPT_ROOT)} 2>/dev/null || true`, 'exit $STATUS', '');
  }
  return lines.join('\n');
}

/** Validates `spec` as a run would and returns its script; creates nothing. */
export async function dryRun(spec: RunSpec, invocation: readonly string[]): Promise<string> {
  const plan = await planRun(spec);
  const address = spec.network === 'bridge' ? (spec.userNetwork === null ? leases() : networkLeases(spec.userNetwork)).peek(spec.requestedIp) : null;
  const leases6 = spec.network === 'bridge' && spec.userNetwork !== null ? networkLeases6(spec.userNetwork) : null;
  const address6 = leases6 === null ? null : leases6.peek(spec.requestedIp6 === null ? null : parseIpv6(spec.requestedIp6));
  spec.ports = await ports().peek(spec.ports); // the host ports -P would choose now, as the address
  return dryRunScript(plan, address, invocation, address6);
}
