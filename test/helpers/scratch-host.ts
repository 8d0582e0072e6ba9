// A scratch host for integration tests: a fresh network + mount namespace, held open by a `sleep` process, with
// its own lo, private tmpfs on /run and /var/lib (so /run/minictr and /var/lib/minictr are private; nothing else
// the tests run reads /var/lib) and, on demand, an "upstream" namespace that plays the internet. minictr and every
// probe run inside it through nsenter, so bridges, veths, nftables rules and sysctls are created there and the real
// host is never touched; they also run in cgroups of the scratch host's own (v1), under which minictr makes its
// containers'. dispose() kills what it started, by pid.

import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise, type Options } from 'execa';
import { afterAll, beforeAll, expect } from 'vitest';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const isRoot = process.getuid?.() === 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The kernel's defaults of the IPv4 settings minictr reads or changes, which a new netns may copy from the host. */
const KERNEL_DEFAULTS = [
  'net.ipv4.ip_forward=0',
  'net.ipv4.conf.all.route_localnet=0',
  'net.ipv4.conf.default.route_localnet=0',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
];

function nsInode(pid: number | 'self', ns: string): string {
  return readlinkSync(`/proc/${pid}/ns/${ns}`);
}

export interface Snapshot {
  links: string[];
  addresses: string[];
  routes: string[];
  ruleset: string;
  mounts: string[];
  state: string[];
  /** /var/lib/minictr: writable layers. */
  data: string[];
  ipForward: string;
  foreignProcesses: number[];
  /** minictr-monitor processes (and their cleanup): detached containers. */
  monitors: number[];
  /** minictr-proxy processes. */
  proxies: number[];
  /** Container cgroups (…/minictr/<id>) of the scratch host, in every controller hierarchy. */
  cgroups: string[];
}

/**
 * Starts, through `exec`, a Node HTTP server on address:port that answers with the client's address as it sees it,
 * and resolves once it listens. The process comes wrapped in an object: resolving with it directly would wait for
 * it to end (a running process is a thenable).
 */
export async function startClientAddressServer(
  exec: (argv: string[]) => ResultPromise,
  address: string,
  port: number,
): Promise<{ server: ResultPromise }> {
  const script =
    "require('http').createServer((q,s)=>s.end(q.socket.remoteAddress))" +
    `.listen(${port},'${address}',()=>console.log('listening'))`;
  const server = exec([process.execPath, '-e', script]);
  await new Promise<void>((resolve, reject) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) resolve();
    });
    void server.then((r) => reject(new Error(`server on ${address}:${port} exited: ${r.stderr}`)));
  });
  return { server };
}

/** An HTTP GET run through `exec` (inside some namespace) with Node's fetch; the body on stdout, exit 1 on error. */
export async function httpGet(exec: (argv: string[]) => ResultPromise, url: string): Promise<Result> {
  const script =
    `fetch(${JSON.stringify(url)},{signal:AbortSignal.timeout(3000)})` +
    '.then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(String(e.cause??e));process.exit(1)})';
  const result = await exec([process.execPath, '-e', script]);
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

export class ScratchHost {
  readonly pid: number;
  private readonly holders: ResultPromise[];

  /**
   * cgroup v1 directories (one per controller minictr uses) that every process run in the scratch host joins
   * first. minictr puts its containers' cgroups under its own, so the scratch host's containers' cgroups are its
   * own, apart from those of other tests running at the same time. (On cgroup v2 minictr uses
   * /sys/fs/cgroup/minictr whoever runs it: there are none.)
   */
  readonly cgroups: string[];

  private constructor(holder: ResultPromise) {
    this.pid = holder.pid!;
    this.holders = [holder];
    this.cgroups = V1_CONTROLLERS.filter((controller) => existsSync(join('/sys/fs/cgroup', controller, 'cgroup.procs'))).map((controller) =>
      join('/sys/fs/cgroup', controller, ownV1Path(controller), `minictr-scratch-${this.pid}`),
    );
    for (const dir of this.cgroups) mkdirSync(dir);
  }

  static async create(): Promise<ScratchHost> {
    const holder = execa('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sleep', 'infinity'], {
      reject: false,
    });
    const host = new ScratchHost(holder);
    await waitFor('the scratch namespace', () => {
      try {
        return nsInode(host.pid, 'net') !== nsInode('self', 'net');
      } catch {
        return false;
      }
    });
    await host.must(['mount', '-t', 'tmpfs', 'tmpfs', '/run']);
    await host.must(['mount', '-t', 'tmpfs', 'tmpfs', '/var/lib']);
    await host.must(['ip', 'link', 'set', 'lo', 'up']);
    // A new network namespace copies the host's IPv4 settings (net.core.devconf_inherit_init_net=0 keeps that
    // legacy behaviour), so a host where minictr or anything else turned forwarding on would hand it on. The tests
    // assume nothing about the host: the settings minictr reads or changes start at the kernel's defaults here.
    await host.must(['sysctl', '-qw', ...KERNEL_DEFAULTS]);
    return host;
  }

  /** Runs argv inside the scratch namespaces and cgroups. */
  exec(argv: string[], options: Options = {}): ResultPromise {
    const join = 'for dir in $SCRATCH_CGROUPS; do echo $$ > "$dir/cgroup.procs" || exit 125; done; unset SCRATCH_CGROUPS; exec "$@"';
    return execa('nsenter', ['-t', String(this.pid), '--net', '--mount', '--', '/bin/sh', '-c', join, 'sh', ...argv], {
      reject: false,
      ...options,
      env: { ...options.env, SCRATCH_CGROUPS: this.cgroups.join(' ') },
    });
  }

  /** Container cgroups (…/minictr/<id>) of this scratch host's containers, in every hierarchy. */
  containerCgroups(): string[] {
    return containerCgroups(this.cgroups);
  }

  async must(argv: string[]): Promise<string> {
    const result = await this.exec(argv);
    if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
    return String(result.stdout);
  }

  /** Starts the minictr CLI inside the scratch host (not awaited: the caller may signal or feed it). */
  start(args: string[], options: Options = {}): ResultPromise {
    return this.exec([process.execPath, CLI, ...args], { timeout: 20_000, ...options });
  }

  async minictr(args: string[], options: Options = {}): Promise<Result> {
    const result = await this.start(args, options);
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  }

  /**
   * Another network namespace linked to the scratch host by a veth `hostIf` (the scratch end): a client host on a
   * LAN, or, with `defaultRoute`, the scratch host's way to "the internet". Addresses are CIDRs on the link.
   */
  async addPeer(hostIf: string, hostCidr: string, peerCidr: string, options: { defaultRoute?: boolean } = {}): Promise<Peer> {
    const holder = this.exec(['unshare', '--net', '--', 'sleep', 'infinity']);
    this.holders.push(holder);
    const pid = holder.pid!;
    // The holder starts in the test's own namespace, enters the scratch host's, then unshares its own: only a
    // namespace that is neither of those two is the peer's (linking to an earlier one would touch the real host).
    await waitFor('the peer namespace', () => {
      try {
        const ns = nsInode(pid, 'net');
        return ns !== nsInode(this.pid, 'net') && ns !== nsInode('self', 'net');
      } catch {
        return false;
      }
    });
    await this.must(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', String(pid)]);
    await this.must(['ip', 'addr', 'add', hostCidr, 'dev', hostIf]);
    await this.must(['ip', 'link', 'set', hostIf, 'up']);
    const peer = new Peer(pid, peerCidr.split('/')[0]!, this.holders);
    if (options.defaultRoute) await this.must(['ip', 'route', 'add', 'default', 'via', peer.address]);
    await peer.must(['ip', 'link', 'set', 'lo', 'up']);
    await peer.must(['ip', 'addr', 'add', peerCidr, 'dev', 'eth0']);
    await peer.must(['ip', 'link', 'set', 'eth0', 'up']);
    return peer;
  }

  /** "The internet": upstream 203.0.113.1/24 (a documentation range), the scratch host's default route. */
  async addUpstream(): Promise<Peer> {
    return this.addPeer('upstream0', '203.0.113.2/24', '203.0.113.1/24', { defaultRoute: true });
  }

  async snapshot(): Promise<Snapshot> {
    const json = async (argv: string[]) => JSON.parse(await this.must(argv)) as Record<string, unknown>[];
    const links = (await json(['ip', '-j', 'link'])).map((l) => `${l.ifname} ${l.master ?? ''}`).sort();
    const addresses = (await json(['ip', '-j', 'addr']))
      .flatMap((l) => ((l.addr_info as Record<string, unknown>[]) ?? []).map((a) => `${l.ifname} ${a.local}/${a.prefixlen}`))
      .sort();
    const routes = (await json(['ip', '-j', 'route'])).map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev}`).sort();
    return {
      links,
      addresses,
      routes,
      ruleset: await this.must(['nft', 'list', 'ruleset']),
      mounts: readFileSync(`/proc/${this.pid}/mounts`, 'utf8').split('\n').sort(),
      state: listTree(`/proc/${this.pid}/root/run/minictr`),
      data: listTree(`/proc/${this.pid}/root/var/lib/minictr`),
      ipForward: (await this.must(['cat', '/proc/sys/net/ipv4/ip_forward'])).trim(),
      foreignProcesses: foreignPidNamespaceProcesses(this.pid),
      monitors: monitorProcesses(this.pid),
      proxies: proxyProcesses(this.pid),
      cgroups: this.containerCgroups(),
    };
  }

  /** Deletes the clsact qdisc, and with it the eBPF loopback guard, of every port of minictr's bridge. */
  async detachVethFilters(): Promise<void> {
    const ports = (JSON.parse(await this.must(['ip', '-j', 'link', 'show', 'master', 'minictr0'])) as { ifname: string }[]).map((l) => l.ifname);
    for (const port of ports) await this.must(['tc', 'qdisc', 'del', 'dev', port, 'clsact']);
  }

  /** Waits until the host equals `before` (the kernel removes a dead container's veth asynchronously). */
  async settle(before: Snapshot, timeoutMs = 3000): Promise<Snapshot> {
    let after = await this.snapshot();
    for (let waited = 0; waited < timeoutMs && JSON.stringify(after) !== JSON.stringify(before); waited += 50) {
      await sleep(50);
      after = await this.snapshot();
    }
    return after;
  }

  /** rm -f of every container, running or exited: what a failed test may have left to the next one. */
  async removeAllContainers(): Promise<void> {
    const ids = (await this.minictr(['ps', '-a', '-q'])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await this.minictr(['rm', '-f', ...ids]);
  }

  async dispose(): Promise<void> {
    // Detached containers outlive their test when it fails: remove them, then end any process still in this
    // scratch host's mount namespace (monitors, cleanups), by pid: they were all started here.
    await this.removeAllContainers();
    const holders = new Set(this.holders.map((holder) => holder.pid));
    for (const pid of processesInMountNamespaceOf(this.pid)) {
      if (holders.has(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch (cause) {
        if ((cause as NodeJS.ErrnoException).code !== 'ESRCH') throw cause; // it ended by itself since the listing
      }
    }
    // cgroupfs is not per namespace: the shared cgroup parents the runs created are on the real host.
    await this.minictr(['system', 'reset']);
    for (const holder of this.holders.reverse()) {
      holder.kill('SIGKILL');
      await holder;
    }
    for (const dir of this.cgroups) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 100) throw cause;
          await sleep(20); // its last processes are still exiting
        }
      }
    }
  }
}

export class Peer {
  readonly pid: number;
  readonly address: string;
  private readonly holders: ResultPromise[];

  constructor(pid: number, address: string, holders: ResultPromise[]) {
    this.pid = pid;
    this.address = address;
    this.holders = holders;
  }

  exec(argv: string[], options: Options = {}): ResultPromise {
    return execa('nsenter', ['-t', String(this.pid), '--net', '--', ...argv], { reject: false, ...options });
  }

  async must(argv: string[]): Promise<string> {
    const result = await this.exec(argv);
    if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
    return String(result.stdout);
  }

  /** An HTTP server on this peer's address answering each request with the client's address as it sees it. */
  async serveClientAddress(port: number): Promise<void> {
    const { server } = await startClientAddressServer((argv) => this.exec(argv), this.address, port);
    this.holders.push(server);
  }
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      out.push(`${prefix}${name}`);
      // An unpacked layer's content is the image's, not state: its directory is listed, not walked.
      const isLayer = name === 'diff' && /(^|\/)layers\/[^/]+\/$/.test(prefix);
      if (!isLayer && lstatSync(join(dir, name)).isDirectory()) walk(join(dir, name), `${prefix}${name}/`);
    }
  };
  walk(root, '');
  return out;
}

const V1_CONTROLLERS = ['memory', 'cpu', 'pids', 'devices'];

/** Where this process sits in a v1 hierarchy. */
function ownV1Path(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

/** Directories …/minictr/<id> under `parents` (v1), and under /sys/fs/cgroup/minictr (v2). */
export function containerCgroups(parents: readonly string[]): string[] {
  const dirs: string[] = [];
  for (const parent of [...parents, '/sys/fs/cgroup'].map((dir) => join(dir, 'minictr'))) {
    try {
      dirs.push(...readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(parent, d.name)));
    } catch {
      // no container cgroup there
    }
  }
  return dirs.sort();
}

/**
 * Whether `pid` belongs to the scratch host of `scratchPid`, and not to another workload of the machine (other
 * test files, the README's quick start on the real host, anybody's containers): it, or for a container's process
 * its nearest ancestor in our PID namespace (minictr, or a monitor), runs in the scratch host's mount namespace; or
 * it is in one of the scratch host's cgroups, which every process started there joins first and keeps when
 * orphaned, so an orphaned container adopted by the machine's init still counts and a leak is never hidden.
 */
function ownedByScratch(pid: number, scratchPid: number): boolean {
  const scratchCgroup = `minictr-scratch-${scratchPid}`;
  const cgroups = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  if (cgroups.some((line) => line.split(':').slice(2).join(':').split('/').includes(scratchCgroup))) return true;
  const own = nsInode('self', 'pid');
  let anchor = pid;
  while (anchor > 1 && nsInode(anchor, 'pid') !== own) {
    anchor = Number(readFileSync(`/proc/${anchor}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  }
  // The machine's init (whose namespaces some sandboxes do not let us read) is never the scratch host's.
  return anchor > 1 && nsInode(anchor, 'mnt') === nsInode(scratchPid, 'mnt');
}

/** Processes living in a PID namespace other than ours: containers of the scratch host that are still running. */
export function foreignPidNamespaceProcesses(scratchPid: number): number[] {
  const own = nsInode('self', 'pid');
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (nsInode(Number(name), 'pid') !== own && ownedByScratch(Number(name), scratchPid)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids.sort((a, b) => a - b);
}

/** Processes in the mount namespace of `pid` (`pid` included). */
function processesInMountNamespaceOf(pid: number): number[] {
  const target = nsInode(pid, 'mnt');
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((other) => {
      try {
        return nsInode(other, 'mnt') === target;
      } catch {
        return false;
      }
    });
}

/** minictr-monitor processes, and the `minictr cleanup` each becomes: detached containers not yet torn down. */
export function monitorProcesses(scratchPid: number): number[] {
  return helperProcesses(scratchPid, (cmdline) => cmdline.startsWith('minictr-monitor\0') || cmdline.includes(`${CLI}\0cleanup\0`));
}

/** minictr-proxy processes (-p on [::1] of containers on dual-stack networks); a zombie's empty command line is none. */
export function proxyProcesses(scratchPid: number): number[] {
  return helperProcesses(scratchPid, (cmdline) => cmdline.startsWith('minictr-proxy\0'));
}

function helperProcesses(scratchPid: number, matches: (cmdline: string) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (matches(readFileSync(`/proc/${name}/cmdline`, 'utf8')) && ownedByScratch(Number(name), scratchPid)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids.sort((a, b) => a - b);
}

/** Waits until `pid` no longer runs (a zombie counts as gone); fails after 3 s. */
export async function waitUntilGone(pid: number): Promise<void> {
  await waitFor(`process ${pid} to exit`, () => {
    try {
      return / [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').slice(-200).replace(/^.*\)/s, ')'));
    } catch {
      return true;
    }
  }, 3000);
}

/** Host pid of the container's PID 1: the child of the minictr process that lives in another PID namespace. */
export async function containerPidOf(minictrPid: number): Promise<number> {
  const own = nsInode('self', 'pid');
  let found: number | undefined;
  await waitFor('the container process', () => {
    try {
      const children = readFileSync(`/proc/${minictrPid}/task/${minictrPid}/children`, 'utf8').trim().split(' ');
      found = children.map(Number).find((pid) => pid > 0 && nsInode(pid, 'pid') !== own);
      return found !== undefined;
    } catch {
      return false;
    }
  });
  return found!;
}

/**
 * A scratch host for the tests of one file (vitest hooks). With `prime`, one container runs first so the shared
 * objects (bridge, nftables table, ip_forward) exist, and `before` is the snapshot every later run must restore.
 */
export function useScratchHost(options: { prime?: boolean } = {}): { host: ScratchHost; before: Snapshot } {
  const context = {} as { host: ScratchHost; before: Snapshot };
  beforeAll(async () => {
    context.host = await ScratchHost.create();
    if (options.prime) expect((await context.host.minictr(['run', '--rm', '/bin/true'])).exitCode).toBe(0);
    context.before = await context.host.settle(await context.host.snapshot());
  });
  afterAll(async () => {
    await context.host?.dispose();
  });
  return context;
}
