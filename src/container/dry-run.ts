// `minictr run --dry-run`: the run as a bash script that does the same steps with standard tools (util-linux's
// unshare, mount and pivot_root, iproute2, nftables, coreutils), commented step by step. It changes nothing when
// generated; run as root, it builds an equivalent container, runs the command and cleans up after it. Every value
// in it, comments included, is one shellQuote word (src/sys/shell-quote.ts): whatever the command line holds, the
// script runs no command but its own.
//
// Its data is the run's own: the SpawnOptions handed to the native child, the ip batch lines and the nft script
// all come from plan.ts, so the script cannot drift from what `minictr run` does. Differences are deliberate:
// it keeps its state under /run/minictr-script instead of minictr's registries (the address is the one that was
// free when it was generated), the command runs without a session of its own (setsid(1) would fork, and the
// command would no longer be PID 1), and the security profile (capabilities, masked and read-only kernel paths,
// no_new_privs, the device policy) is not reproduced: the script's container runs with root's full privileges.
// Nor is the eBPF veth filter (no standard tool attaches it): only the nftables guard chain keeps the script's
// container from the host's loopback, and nothing keeps it from sending with another container's addresses.

import { networkLeases } from '../network/networks.js';
import { posix } from 'node:path';
import type { SpawnOptions } from '../native/index.js';
import { MinictrError } from '../errors.js';
import { BRIDGE } from '../network/names.js';
import { STATE_ROOT } from '../paths.js';
import { shellQuote } from '../sys/shell-quote.js';
import { leases, ports } from './registries.js';
import { shortId } from '../ids.js';
import { mountData } from './overlay.js';
import { hostNetwork, planRun, spawnOptions, type Plan } from './plan.js';
import type { RunSpec } from './spec.js';

const SCRIPT_ROOT = `${STATE_ROOT}-script`;

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
 * -v, --mount, --tmpfs under the overlay, parents first. Unlike minictr's child (native/src/mounts.cc), mkdir and
 * mount here follow symlinks as the host does: run this script only with images whose paths you trust.
 */
function mountLines(mounts: SpawnOptions['mounts']): string[] {
  if (mounts.length === 0) return [];
  const q = shellQuote;
  return [
    '# Volumes, before /proc, /dev and /sys. minictr resolves each path inside the root (openat2 RESOLVE_IN_ROOT) and',
    '# never through a symlink to the host; mkdir and mount below do not: trust the image before running this.',
    ...mounts.flatMap(({ kind, source, target, readOnly, data }) => {
      const path = q(`.${target}`);
      if (kind === 'tmpfs') {
        return [`mkdir -p ${path}`, `mount -t tmpfs -o ${q(['nosuid', 'nodev', 'noexec', ...(readOnly ? ['ro'] : []), ...(data ? [data] : [])].join(','))} tmpfs ${path}`];
      }
      const make = `{ [ -d ${q(source)} ] && mkdir -p ${path}; } || { mkdir -p ${q(`.${posix.dirname(target)}`)} && touch ${path}; }`;
      return [make, `mount --rbind --make-rprivate ${q(source)} ${path}`, ...(readOnly ? [`mount -o remount,bind,ro ${path}`] : [])];
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

function childScript(plan: Plan, root: string, address: string | null): string[] {
  const options = spawnOptions(plan, { upper: `${root}/upper`, work: `${root}/work`, merged: `${root}/merged` }, address);
  const q = shellQuote;
  const lines = [
    'set -eu',
    '# Block until the host side is ready (minictr: the release pipe).',
    `read go < ${q(`${root}/go`)}`,
    '# Hostname, in the new UTS namespace (sethostname).',
    `echo ${q(options.hostname)} > /proc/sys/kernel/hostname`,
    '# Network, in the new network namespace: lo, then eth0 (created by the host side) and the default route.',
    'ip link set lo up',
  ];
  if (options.interface !== null) {
    const iface = options.interface;
    lines.push(
      '# No IPv6 router advertisement is ever learned (CVE-2020-13401), where the kernel has IPv6.',
      ...['accept_ra', 'autoconf'].map((setting) => {
        const path = q(`/proc/sys/net/ipv6/conf/${iface.name}/${setting}`);
        return `[ ! -e ${path} ] || echo 0 > ${path}`;
      }),
      `ip addr add ${q(`${iface.address}/${iface.prefixLength}`)} dev ${q(iface.name)}`,
      `ip link set ${q(iface.name)} up`,
      `ip route add default via ${q(iface.gateway)}`,
    );
  }
  lines.push(
    '# Nothing mounted from here on propagates to the host.',
    'mount --make-rprivate /',
    '# The root: an overlay whose read-only lower layers are the rootfs (or an image\'s layers), the writable upper layer our own.',
    ...overlayLines(options.overlay, root),
    `cd ${q(options.overlay.target)}`,
    ...mountLines(scriptMounts(plan, options.mounts, root)),
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
    'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts dev/pts',
    'mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm dev/shm',
    ...DEV_LINKS.map(([to, name]) => `ln -s ${to} dev/${name}`),
    'mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys',
    '# Identity and name resolution files, into the upper layer.',
    ...options.etcFiles.flatMap((file) => [`rm -f ${q(`.${file.path}`)}`, `printf '%s' ${q(file.content)} > ${q(`.${file.path}`)}`]),
    '# pivot_root into the overlay, then detach the host\'s tree (from here on, programs come from the rootfs).',
    'pivot_root . .',
    'umount -l .',
    '# bash remembers where it found programs (mkdir, above, in the host\'s /usr/bin): forget, look in the rootfs.',
    'hash -r',
    '# Working directory, created if missing.',
    `mkdir -p ${q(options.workdir)}`,
    `cd ${q(options.workdir)}`,
    '# Exec the command with exactly the container\'s environment.',
    `exec env -i -- ${options.env.map(q).join(' ')} ${[options.execPath, ...options.argv.slice(1)].map(q).join(' ')}`,
  );
  return lines;
}

function dryRunScript(plan: Plan, address: string | null): string {
  const { spec } = plan;
  const root = `${SCRIPT_ROOT}/${shortId(plan.id)}`;
  const q = shellQuote;
  const namespaces = ['--pid', '--mount', '--uts', '--ipc', ...(spec.network === 'host' ? [] : ['--net'])];
  const lines = [
    '#!/bin/bash',
    `# minictr run --dry-run ${spec.argv.map(q).join(' ')}`,
    '# The steps minictr would take, with standard tools. Run as root: it builds an equivalent container, runs the',
    `# command and cleans up. State lives in ${q(root)}; no minictr lease is taken (${q(address ?? 'no address')} was free when this was written).`,
    'set -eu',
    '',
    '# 1. State: the overlay\'s writable layer, its work directory, the mount point, and the release fifo.',
    `mkdir -p ${q(`${root}/upper`)} ${q(`${root}/work`)} ${q(`${root}/merged`)}`,
    `mkfifo ${q(`${root}/go`)}`,
    ...volumeLines(plan, root),
    '',
    '# 2. What the child will do inside the new namespaces (minictr: native/src/child.cc).',
    `cat > ${q(`${root}/child.sh`)} <<'MINICTR_CHILD'`,
    ...childScript(plan, root, address),
    'MINICTR_CHILD',
    '',
    `# 3. clone(): a shell in new ${namespaces.map((n) => n.slice(2)).join(', ')} namespaces, waiting for "go".`,
    `unshare ${namespaces.join(' ')} --fork --kill-child bash ${q(`${root}/child.sh`)} &`,
    'UNSHARE=$!',
    '# The container\'s PID 1 is unshare\'s child; the host knows it by this pid.',
    'PID=',
    'while [ -z "$PID" ]; do PID=$(cat /proc/$UNSHARE/task/$UNSHARE/children 2>/dev/null || true); done',
    'PID=${PID%% *}',
  ];
  const network = address === null ? null : hostNetwork(plan, address, '$PID');
  if (network !== null) {
    lines.push(
      '',
      '# 4. Host side: the bridge if missing, then the veth pair with eth0 created inside the container\'s netns.',
      `ip link show ${q(BRIDGE)} >/dev/null 2>&1 || ip -batch - <<'MINICTR_IP'`,
      ...network.bridgeLines,
      'MINICTR_IP',
      'ip -batch - <<MINICTR_IP',
      ...network.vethLines,
      'MINICTR_IP',
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
    '# 5. Release the child.',
    `echo go > ${q(`${root}/go`)}`,
    '',
    '# 6. Wait for PID 1 (unshare exits with its status).',
    'STATUS=0',
    'wait $UNSHARE || STATUS=$?',
    '',
    '# 7. Teardown: the kernel removes the veth pair with the network namespace; the rest is ours to remove.',
  );
  const unpublish = network?.unpublishScript ?? null;
  if (unpublish !== null) lines.push(`nft -f - <<'MINICTR_NFT'`, ...unpublish.trimEnd().split('\n'), 'MINICTR_NFT');
  lines.push(`rm -rf ${q(root)}`, `rmdir ${q(SCRIPT_ROOT)} 2>/dev/null || true`, 'exit $STATUS', '');
  return lines.join('\n');
}

/** Validates `spec` as a run would and returns its script; creates nothing. */
export async function dryRun(spec: RunSpec): Promise<string> {
  const plan = await planRun(spec);
  const address = spec.network === 'bridge' ? (spec.userNetwork === null ? leases() : networkLeases(spec.userNetwork)).peek(spec.requestedIp) : null;
  spec.ports = await ports().peek(spec.ports); // the host ports -P would choose now, as the address
  return dryRunScript(plan, address);
}
