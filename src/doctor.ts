// `minictr doctor`: what on this host would stop containers from working, each finding with its fix. It changes
// nothing on the host: kernel features are probed in throwaway network namespaces (`unshare --net`), which vanish
// with the probe. A finding is "error" when it blocks containers, "warning" when it may surprise, "ok" otherwise.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cgroupV2 } from './container/cgroups.js';
import { listContainerDirs, phaseOf } from './container/state.js';
import { messageOf } from './errors.js';
import { shortId } from './ids.js';
import { linkExists } from './network/iproute.js';
import { vethFilterState } from './network/veth-filter.js';
import { nativeAddon } from './native/index.js';
import { BRIDGE, hostVethName, isHostVeth, NFT_TABLE, SUBNET_CIDR } from './network/names.js';
import { parseIpv4, Subnet } from './network/subnet.js';
import { CommandError, runCommand } from './sys/command.js';
import { findInPath, NAMESPACES, NETWORK_PROGRAMS, overlayAvailable } from './sys/preflight.js';

export type Level = 'ok' | 'warning' | 'error';

export interface Finding {
  level: Level;
  check: string;
  message: string;
  fix?: string;
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
};

async function probe(argv: string[], input: string): Promise<string | null> {
  try {
    await runCommand(argv, input);
    return null;
  } catch (cause) {
    return cause instanceof CommandError ? cause.stderr.trim() || cause.message : String(cause);
  }
}

function kernelChecks(): Finding[] {
  const missing = NAMESPACES.filter(([ns]) => !existsSync(`/proc/self/ns/${ns}`));
  return [
    missing.length === 0
      ? { level: 'ok', check: 'namespaces', message: 'net, pid, mnt, uts and ipc namespaces are available' }
      : {
          level: 'error',
          check: 'namespaces',
          message: `missing: ${missing.map(([ns, feature]) => `${ns} (${feature})`).join(', ')}`,
          fix: 'use a kernel built with these namespaces',
        },
    overlayAvailable()
      ? { level: 'ok', check: 'overlayfs', message: 'overlayfs is available' }
      : { level: 'error', check: 'overlayfs', message: 'overlayfs is neither loaded nor installed as a module', fix: 'modprobe overlay' },
  ];
}

/** cgroups: v2 (unified) or the v1 controllers resource limits need (memory, cpu, pids). */
function cgroupChecks(): Finding[] {
  if (cgroupV2()) {
    return [{ level: 'ok', check: 'cgroups', message: `cgroup v2: ${read('/sys/fs/cgroup/cgroup.controllers') ?? ''}` }];
  }
  const v1 = ['memory', 'cpu', 'pids'].filter((controller) => existsSync(`/sys/fs/cgroup/${controller}/tasks`));
  return [
    v1.length === 3
      ? { level: 'ok', check: 'cgroups', message: 'cgroup v1 with the memory, cpu and pids controllers' }
      : {
          level: 'warning',
          check: 'cgroups',
          message: `cgroup controllers missing for resource limits: ${['memory', 'cpu', 'pids'].filter((c) => !v1.includes(c)).join(', ')}`,
          fix: 'mount cgroup2 on /sys/fs/cgroup, or the v1 memory, cpu and pids controllers',
        },
  ];
}

function programChecks(): Finding[] {
  const programs = [...NETWORK_PROGRAMS, ['ip', 'iproute2'], ['unshare', 'util-linux'], ['nsenter', 'util-linux']] as const;
  const missing = programs.filter(([program]) => findInPath(program) === null);
  return [
    missing.length === 0
      ? { level: 'ok', check: 'programs', message: 'ip, nft, unshare and nsenter are installed' }
      : {
          level: 'error',
          check: 'programs',
          message: `not found in PATH: ${missing.map(([p]) => p).join(', ')}`,
          fix: `apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')}`,
        },
  ];
}

/** veth, bridge and the nftables features minictr uses, tried in throwaway network namespaces. */
async function probeChecks(): Promise<Finding[]> {
  if (findInPath('unshare') === null || findInPath('ip') === null || findInPath('nft') === null) return [];
  const findings: Finding[] = [];
  const links = await probe(['unshare', '--net', '--', 'ip', '-batch', '-'], 'link add p0 type veth peer name p1\nlink add b0 type bridge\n');
  findings.push(
    links === null
      ? { level: 'ok', check: 'veth and bridge', message: 'veth pairs and bridges can be created' }
      : { level: 'error', check: 'veth and bridge', message: links, fix: 'modprobe veth bridge' },
  );
  const rules = [
    'add table ip probe',
    'add map ip probe m { type inet_proto . inet_service : ipv4_addr . inet_service; }',
    'add chain ip probe pre { type nat hook prerouting priority dstnat; }',
    'add chain ip probe post { type nat hook postrouting priority srcnat; }',
    'add rule ip probe pre fib daddr type local dnat ip to meta l4proto . th dport map @m',
    'add rule ip probe post ip saddr 10.0.0.0/24 masquerade',
    '',
  ].join('\n');
  const nft = await probe(['unshare', '--net', '--', 'nft', '-f', '-'], rules);
  findings.push(
    nft === null
      ? { level: 'ok', check: 'nftables', message: 'nftables NAT, fib and maps work' }
      : { level: 'error', check: 'nftables', message: nft, fix: 'modprobe nf_tables nft_nat nft_fib_ipv4 nft_masq' },
  );
  return findings;
}

/** The settings minictr depends on; `root`: the loopback guard (a netlink query of each veth's filters) can be checked too. */
function sysctlChecks(root: boolean): Finding[] {
  const findings: Finding[] = [];
  const bridged = linkExists(BRIDGE);
  const forward = read('/proc/sys/net/ipv4/ip_forward');
  if (forward === '1') findings.push({ level: 'ok', check: 'ip_forward', message: 'net.ipv4.ip_forward is 1' });
  else if (bridged) {
    findings.push({
      level: 'error',
      check: 'ip_forward',
      message: `net.ipv4.ip_forward is ${forward}: containers cannot reach anything beyond the bridge`,
      fix: 'sysctl -w net.ipv4.ip_forward=1',
    });
  } else {
    findings.push({ level: 'ok', check: 'ip_forward', message: 'net.ipv4.ip_forward is 0; the first bridged run turns it on' });
  }
  if (bridged && root) findings.push(loopbackGuardCheck());
  const brNetfilter = read('/proc/sys/net/bridge/bridge-nf-call-iptables');
  findings.push({
    level: 'ok',
    check: 'br_netfilter',
    message:
      brNetfilter === '1'
        ? 'br_netfilter is loaded and bridge-nf-call-iptables=1: bridged traffic also crosses every firewall forward hook'
        : 'bridged traffic between containers bypasses the firewall hooks (br_netfilter off or not loaded)',
  });
  return findings;
}

/**
 * route_localnet on the bridge (loopback clients of published ports need it) is safe only while the host end of
 * every container's veth carries the eBPF loopback guard (network/veth-filter.ts): together they are one finding.
 */
function loopbackGuardCheck(): Finding {
  const check = 'loopback guard';
  const localnet = read(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`);
  const veths = readdirSync('/proc/sys/net/ipv4/conf').filter(isHostVeth);
  let unguarded: string[];
  try {
    const addon = nativeAddon();
    unguarded = veths.filter((veth) => vethFilterState(addon, veth) === 'missing');
  } catch (cause) {
    return { level: 'warning', check, message: `cannot query the eBPF loopback guard: ${messageOf(cause)}` };
  }
  const off = `sysctl -w net.ipv4.conf.${BRIDGE}.route_localnet=0`;
  if (unguarded.length > 0 && localnet === '1') {
    return {
      level: 'error',
      check,
      message: `route_localnet is 1 on ${BRIDGE} but these veths lack the eBPF loopback guard: ${unguarded.join(', ')}; only the nftables guard chain keeps their containers from the host's 127.0.0.1 services`,
      fix: `${off} (closes it at once; the containers get the guard again when they are started again)`,
    };
  }
  if (localnet !== '1' && veths.length > 0) {
    return { level: 'warning', check, message: `route_localnet is ${localnet} on ${BRIDGE}: published ports do not answer on 127.0.0.1 until the next run` };
  }
  return { level: 'ok', check, message: `each container's veth drops its packets to 127.0.0.0/8 (eBPF in a cls_bpf filter on its clsact ingress, ${veths.length} now)` };
}

/** Other firewalls whose rules would drop what minictr forwards. */
async function firewallChecks(): Promise<Finding[]> {
  const findings: Finding[] = [];
  let ruleset = '';
  try {
    ruleset = (await runCommand(['nft', 'list', 'ruleset'])).stdout;
  } catch {
    // no nft: reported by the programs check
  }
  const tables = ruleset.split(/^table /m).slice(1);
  for (const table of tables) {
    const name = table.slice(0, table.indexOf(' {'));
    if (name === `ip ${NFT_TABLE}`) continue;
    if (/hook forward[^;]*;[^}]*policy drop/.test(table)) {
      // A table that already names the bridge has presumably been told to let its traffic through.
      findings.push({
        level: table.includes(`"${BRIDGE}"`) ? 'warning' : 'error',
        check: 'firewall',
        message: `table ${name} has a forward chain with policy drop: containers' forwarded traffic is dropped there`,
        fix: `accept traffic from and to ${BRIDGE} in table ${name} (e.g. iifname "${BRIDGE}" accept, oifname "${BRIDGE}" accept), or change its policy`,
      });
    }
    if (/chain DOCKER/.test(table)) {
      findings.push({ level: 'warning', check: 'firewall', message: `table ${name} has Docker's chains: Docker's FORWARD rules also judge minictr's traffic` });
    }
  }
  const legacy = read('/proc/net/ip_tables_names');
  if (legacy) {
    findings.push({
      level: 'warning',
      check: 'firewall',
      message: `iptables-legacy tables are in use (${legacy.split('\n').join(', ')}): their FORWARD rules apply too, and nft does not show them`,
      fix: `iptables-legacy -S FORWARD, and accept ${BRIDGE} traffic there if its policy is DROP`,
    });
  }
  if ((read('/etc/ufw/ufw.conf') ?? '').includes('ENABLED=yes')) {
    findings.push({ level: 'warning', check: 'firewall', message: 'ufw is enabled and drops forwarded traffic by default', fix: `ufw route allow in on ${BRIDGE}; ufw route allow out on ${BRIDGE}` });
  }
  if (existsSync('/run/firewalld')) {
    findings.push({ level: 'warning', check: 'firewall', message: 'firewalld is running', fix: `firewall-cmd --zone=trusted --add-interface=${BRIDGE}` });
  }
  if (!findings.some((f) => f.check === 'firewall')) {
    findings.push({ level: 'ok', check: 'firewall', message: 'no other firewall rule in the way of forwarded traffic' });
  }
  return findings;
}

/** Host routes that overlap minictr's subnet, other than the bridge's own. */
async function routeChecks(): Promise<Finding[]> {
  const subnet = Subnet.parse(SUBNET_CIDR);
  let routes: { dst: string; dev?: string; type?: string }[] = [];
  try {
    routes = JSON.parse((await runCommand(['ip', '-j', 'route', 'show', 'table', 'all'])).stdout || '[]');
  } catch {
    return [];
  }
  const overlapping = routes.filter((route) => {
    if (route.dev === BRIDGE || route.dst === 'default' || route.type === 'broadcast' || route.type === 'local') return false;
    const [address, length] = route.dst.split('/');
    const start = parseIpv4(address ?? '');
    if (start === null) return false;
    const prefix = Number(length ?? 32);
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const end = (start | ~mask) >>> 0;
    return start <= subnet.broadcast && end >= subnet.network;
  });
  return [
    overlapping.length === 0
      ? { level: 'ok', check: 'subnet', message: `no host route overlaps ${subnet.toString()}` }
      : {
          level: 'error',
          check: 'subnet',
          message: `host routes overlap ${subnet.toString()}: ${overlapping.map((r) => `${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`).join(', ')}`,
          fix: 'remove or narrow those routes; containers and those destinations cannot both be reached',
        },
  ];
}

/** Containers whose minictr died without teardown, and host veths no container accounts for. */
async function leftoverChecks(): Promise<Finding[]> {
  const dirs = listContainerDirs();
  const dead = dirs.filter((d) => {
    const phase = phaseOf(d);
    return phase.garbage && phase.name !== 'removing';
  });
  const findings: Finding[] = [
    dead.length === 0
      ? { level: 'ok', check: 'leftovers', message: 'no dead container state' }
      : {
          level: 'warning',
          check: 'leftovers',
          message: `state of ${dead.length} dead container(s): ${dead.map((d) => shortId(d.id)).join(', ')}`,
          fix: 'minictr gc',
        },
  ];
  let links: { ifname: string }[] = [];
  try {
    links = JSON.parse((await runCommand(['ip', '-j', 'link', 'show', 'type', 'veth'])).stdout || '[]');
  } catch {
    return findings;
  }
  const known = new Set(dirs.map(({ id }) => hostVethName(shortId(id))));
  const strays = links.map((l) => l.ifname).filter((name) => isHostVeth(name) && !known.has(name));
  if (strays.length > 0) {
    findings.push({
      level: 'warning',
      check: 'leftovers',
      message: `veths of no known container: ${strays.join(', ')}`,
      fix: strays.map((name) => `ip link del ${name}`).join('; '),
    });
  }
  return findings;
}

export async function runDoctor(): Promise<Finding[]> {
  // Without root, the probes (namespaces, nftables, eBPF, minictr's state) fail for that reason alone: a fix such as
  // modprobe would mislead. They are skipped, and the one finding says so.
  if (process.getuid?.() !== 0) {
    return [
      {
        level: 'error',
        check: 'root',
        message: 'not running as root: minictr needs root, and so do the checks of veth and bridge, nftables, the loopback guard, the firewall and leftovers (skipped)',
        fix: 'sudo minictr doctor',
      },
      ...kernelChecks(),
      ...cgroupChecks(),
      ...programChecks(),
      ...sysctlChecks(false),
      ...(await routeChecks()),
    ];
  }
  const findings: Finding[] = [{ level: 'ok', check: 'root', message: 'running as root' }];
  findings.push(...kernelChecks(), ...cgroupChecks(), ...programChecks(), ...(await probeChecks()), ...sysctlChecks(true));
  findings.push(...(await firewallChecks()), ...(await routeChecks()), ...(await leftoverChecks()));
  return findings;
}
